#include "harness/plan/plan.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Error;
using jenga::harness::expand;
using jenga::harness::Experiment;
using jenga::harness::Json;
using jenga::harness::MatrixOverride;
using jenga::harness::PlannedRun;
using jenga::harness::PlanOptions;
using jenga::harness::Profile;
using jenga::harness::run_key;
using jenga::harness::testing::expect_error;

namespace {

Experiment base_experiment() {
  Experiment e;
  e.name = "exp";
  e.file = "experiments/exp.yaml";
  e.task = "train-bench";
  e.matrix.fixed = Json::parse(R"({"model":"llama2-7b","steps":10})");
  e.matrix.sweep = {{"method", {"base", "jenga"}}, {"seq_len", {"$lengths"}}};
  return e;
}

Profile profile(const std::string& name = "h100") {
  Profile p;
  p.name = name;
  p.file = "configs/profiles/" + name + ".yaml";
  p.sizes["lengths"] = {4096, 8192, 16384};
  p.sizes["max_len"] = {65536};
  p.sizes["pair"] = {1, 2};
  return p;
}

// "method/seq_len" per run, for compact order assertions.
std::vector<std::string> labels(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) {
    std::string s;
    for (const auto& [k, v] : r.params.items()) {
      if (k == "model" || k == "steps") continue;
      s += (s.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    out.push_back(s);
  }
  return out;
}

TEST(Expand, CartesianProductFirstAxisSlowest) {
  const auto runs = expand(base_experiment(), profile());
  EXPECT_EQ(labels(runs), (std::vector<std::string>{
                              "method=base seq_len=4096", "method=base seq_len=8192", "method=base seq_len=16384",
                              "method=jenga seq_len=4096", "method=jenga seq_len=8192", "method=jenga seq_len=16384"}));
  for (const auto& r : runs) {
    EXPECT_EQ(r.experiment, "exp");
    EXPECT_EQ(r.profile, "h100");
    EXPECT_EQ(r.task, "train-bench");
    EXPECT_EQ(r.params.at("model"), "llama2-7b");
    EXPECT_EQ(r.params.at("steps"), 10);
    EXPECT_EQ(r.key, run_key("exp", r.params, "h100"));
    EXPECT_TRUE(r.params.at("seq_len").is_number_integer());
  }
}

TEST(Expand, ThreeAxesOrderAndCount) {
  Experiment e = base_experiment();
  e.matrix.sweep = {{"a", {1, 2}}, {"b", {"x", "y", "z"}}, {"c", {true, false}}};
  const auto runs = expand(e, profile());
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(labels(runs)[0], "a=1 b=x c=true");
  EXPECT_EQ(labels(runs)[1], "a=1 b=x c=false");
  EXPECT_EQ(labels(runs)[2], "a=1 b=y c=true");
  EXPECT_EQ(labels(runs)[6], "a=2 b=x c=true");
  EXPECT_EQ(labels(runs)[11], "a=2 b=z c=false");
}

TEST(Expand, NoSweepIsOneRunAndEmptyAxisIsNone) {
  Experiment e = base_experiment();
  e.matrix.sweep.clear();
  ASSERT_EQ(expand(e, profile()).size(), 1u);
  EXPECT_EQ(expand(e, profile())[0].params, e.matrix.fixed);
  e.matrix.sweep = {{"method", {}}};
  EXPECT_TRUE(expand(e, profile()).empty());
  e.matrix.include = {Json::parse(R"({"method":"longlora"})")};
  EXPECT_EQ(labels(expand(e, profile())), (std::vector<std::string>{"method=longlora"}));
}

TEST(Expand, ExcludePatternsNeedEveryNamedKeyToMatch) {
  Experiment e = base_experiment();
  e.matrix.exclude = {Json::parse(R"({"method":"jenga","seq_len":4096})"), Json::parse(R"({"seq_len":16384})")};
  EXPECT_EQ(labels(expand(e, profile())), (std::vector<std::string>{"method=base seq_len=4096",
                                                                    "method=base seq_len=8192",
                                                                    "method=jenga seq_len=8192"}));
}

TEST(Expand, ExcludeValuesMayReferToSizes) {
  Experiment e = base_experiment();
  e.matrix.sweep = {{"seq_len", {1024, "$max_len"}}};
  e.matrix.exclude = {Json::parse(R"({"seq_len":"$max_len"})")};
  EXPECT_EQ(labels(expand(e, profile())), (std::vector<std::string>{"seq_len=1024"}));
}

TEST(Expand, ExcludeNamingUnknownParameterIsAnError) {
  Experiment e = base_experiment();
  e.matrix.exclude = {Json::parse(R"({"metod":"jenga"})")};
  const Error err = expect_error([&] { expand(e, profile()); });
  EXPECT_CONTAINS(err.what(), "experiments/exp.yaml: experiment 'exp': exclude pattern names parameter 'metod'");
}

TEST(Expand, IncludeRowsComeLastMergeFixedAndAreNotExcluded) {
  Experiment e = base_experiment();
  e.matrix.include = {Json::parse(R"({"method":"longlora","seq_len":32768,"steps":3})"),
                      Json::parse(R"({"method":"base","seq_len":4096})"),   // duplicate of a product row
                      Json::parse(R"({"method":"jenga","seq_len":8192})")};  // excluded below, included here
  e.matrix.exclude = {Json::parse(R"({"method":"jenga"})")};
  const auto runs = expand(e, profile());
  EXPECT_EQ(labels(runs), (std::vector<std::string>{"method=base seq_len=4096", "method=base seq_len=8192",
                                                    "method=base seq_len=16384", "method=longlora seq_len=32768",
                                                    "method=jenga seq_len=8192"}));
  EXPECT_EQ(runs[3].params.at("steps"), 3);          // the row wins over fixed
  EXPECT_EQ(runs[3].params.at("model"), "llama2-7b");  // fixed fills the rest
}

TEST(Expand, DuplicateRunsAreDropped) {
  Experiment e = base_experiment();
  e.matrix.sweep = {{"method", {"base", "base", "jenga"}}, {"seq_len", {"$lengths", 4096}}};
  const auto runs = expand(e, profile());
  EXPECT_EQ(runs.size(), 6u);
  std::set<std::string> keys;
  for (const auto& r : runs) keys.insert(r.key);
  EXPECT_EQ(keys.size(), runs.size());
}

TEST(Expand, ProfileOverridePrecedence) {
  Experiment e = base_experiment();
  MatrixOverride o;
  o.fixed = Json::parse(R"({"steps":3,"method":"jenga"})");  // fixes a swept key: the axis goes away
  o.sweep = {{"seq_len", {512}}, {"lr", {0.1, 0.2}}};          // replaces an axis in place, appends another
  e.profiles["cpu"] = o;
  MatrixOverride other;
  other.fixed = Json::parse(R"({"steps":999})");
  e.profiles["a40"] = other;

  const auto runs = expand(e, profile("cpu"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(labels(runs), (std::vector<std::string>{"lr=0.1 method=jenga seq_len=512", "lr=0.2 method=jenga seq_len=512"}));
  EXPECT_EQ(runs[0].params.at("steps"), 3);
  EXPECT_EQ(runs[0].profile, "cpu");
  // Another profile's override never leaks in.
  for (const auto& r : expand(e, profile("h100"))) EXPECT_EQ(r.params.at("steps"), 10);
}

TEST(Expand, OverrideSweepReplacesBaseFixed) {
  Experiment e = base_experiment();
  MatrixOverride o;
  o.sweep = {{"steps", {1, 2}}};
  e.profiles["h100"] = o;
  const auto runs = expand(e, profile());
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(runs[0].params.at("steps"), 1);
  EXPECT_EQ(runs[1].params.at("steps"), 2);
}

TEST(Expand, QuickAppliesAfterProfileOnlyWhenAsked) {
  Experiment e = base_experiment();
  MatrixOverride prof;
  prof.fixed = Json::parse(R"({"steps":5,"seed":1})");
  e.profiles["h100"] = prof;
  MatrixOverride quick;
  quick.fixed = Json::parse(R"({"steps":1})");
  quick.sweep = {{"seq_len", {"$max_len"}}};
  quick.exclude = {Json::parse(R"({"method":"base"})")};
  e.quick = quick;

  const auto full = expand(e, profile());
  ASSERT_EQ(full.size(), 6u);
  EXPECT_EQ(full[0].params.at("steps"), 5);

  PlanOptions opt;
  opt.quick = true;
  const auto q = expand(e, profile(), opt);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].params.at("steps"), 1);     // quick wins over the profile
  EXPECT_EQ(q[0].params.at("seed"), 1);      // the profile's other keys stay
  EXPECT_EQ(q[0].params.at("seq_len"), 65536);
  EXPECT_EQ(q[0].params.at("method"), "jenga");
  EXPECT_NE(q[0].key, full[0].key);
}

TEST(Expand, SizeReferences) {
  Experiment e = base_experiment();
  e.matrix.sweep = {{"seq_len", {1024, "$lengths", "$$lengths"}}};
  e.matrix.fixed = Json::parse(R"({"max":"$max_len","pair":"$pair","literal":"$$x","list":["$lengths"]})");
  const auto runs = expand(e, profile());
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(labels(runs)[0], "list=[\"$lengths\"] literal=$x max=65536 pair=[1,2] seq_len=1024");
  EXPECT_EQ(runs[1].params.at("seq_len"), 4096);
  EXPECT_EQ(runs[3].params.at("seq_len"), 16384);
  EXPECT_EQ(runs[4].params.at("seq_len"), "$lengths");   // "$$" escapes
  EXPECT_EQ(runs[0].params.at("max"), 65536);            // one-element size: the value itself
  EXPECT_EQ(runs[0].params.at("pair"), Json::parse("[1,2]"));  // longer: the list
  EXPECT_EQ(runs[0].params.at("literal"), "$x");
}

TEST(Expand, MissingSizeNamesReferenceProfileAndDefinedSizes) {
  Experiment e = base_experiment();
  e.matrix.sweep = {{"seq_len", {"$long_lengths"}}};
  const Error err = expect_error([&] { expand(e, profile("a40")); });
  EXPECT_EQ(err.where().file, "experiments/exp.yaml");
  EXPECT_CONTAINS(err.what(), "matrix.sweep.seq_len refers to size \"$long_lengths\"");
  EXPECT_CONTAINS(err.what(), "profile 'a40' (configs/profiles/a40.yaml) does not define");
  EXPECT_CONTAINS(err.what(), "it defines: $lengths, $max_len, $pair");

  Experiment f = base_experiment();
  f.matrix.fixed = Json::parse(R"({"n":"$nope"})");
  const Error err2 = expect_error([&] { expand(f, profile()); });
  EXPECT_CONTAINS(err2.what(), "matrix.fixed.n refers to size \"$nope\"");
}

TEST(RunKey, GoldenValueAndSensitivity) {
  const Json params = Json::parse(R"({"seq_len":4096,"method":"base"})");
  // sha256("smoke\n{\"method\":\"base\",\"seq_len\":4096}\nh100")[:16], computed with Python hashlib.
  EXPECT_EQ(run_key("smoke", params, "h100"), "bebf89ea616075d8");
  EXPECT_EQ(run_key("smoke", params, "h100").size(), 16u);

  Json reordered = Json::object();
  reordered["method"] = "base";
  reordered["seq_len"] = 4096;
  EXPECT_EQ(run_key("smoke", reordered, "h100"), run_key("smoke", params, "h100"));

  EXPECT_NE(run_key("smoke", params, "a800"), run_key("smoke", params, "h100"));
  EXPECT_NE(run_key("smoke2", params, "h100"), run_key("smoke", params, "h100"));
  Json changed = params;
  changed["seq_len"] = 8192;
  EXPECT_NE(run_key("smoke", changed, "h100"), run_key("smoke", params, "h100"));
  Json typed = params;
  typed["seq_len"] = "4096";  // a string is not the number
  EXPECT_NE(run_key("smoke", typed, "h100"), run_key("smoke", params, "h100"));
}

TEST(RunKey, SameRunSameKeyAcrossExpansions) {
  const auto a = expand(base_experiment(), profile());
  const auto b = expand(base_experiment(), profile());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].key, b[i].key);
  // The same params on another profile get other keys.
  const auto c = expand(base_experiment(), profile("h200"));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NE(a[i].key, c[i].key);
}

}  // namespace
