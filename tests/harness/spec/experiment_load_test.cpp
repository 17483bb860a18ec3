#include "harness/spec/experiment.hpp"
#include "tests/harness/spec/sample_experiment.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Experiment;
using jenga::harness::Json;
using jenga::harness::load_all_experiments;
using jenga::harness::load_experiment;
using jenga::harness::testing::expect_error;
using jenga::harness::testing::kSampleExperiment;
using jenga::harness::testing::TempTree;

namespace {

TEST(ExperimentLoad, ReadsEveryField) {
  TempTree t;
  const std::string path = t.write("experiments/sample.yaml", kSampleExperiment);
  const Experiment e = load_experiment(path);
  EXPECT_EQ(e.name, "sample");
  EXPECT_EQ(e.file, path);
  EXPECT_EQ(e.paper, (std::vector<std::string>{"Fig 12", "Table 3"}));
  EXPECT_EQ(e.description, "A folded description.\n");
  EXPECT_EQ(e.task, "train-bench");

  // Scalars typed as YAML 1.2 core; quoted ones stay strings.
  const Json& f = e.matrix.fixed;
  EXPECT_EQ(f.at("model"), "llama2-7b");
  EXPECT_TRUE(f.at("steps").is_number_integer());
  EXPECT_EQ(f.at("steps"), 10);
  EXPECT_TRUE(f.at("lr").is_number_float());
  EXPECT_DOUBLE_EQ(f.at("lr").get<double>(), 2.0e-4);
  EXPECT_EQ(f.at("use_lora"), true);
  EXPECT_TRUE(f.at("tag").is_string());
  EXPECT_EQ(f.at("tag"), "4096");
  EXPECT_EQ(f.at("note"), "$$literal");
  EXPECT_EQ(f.at("shape"), Json::parse("[1,2]"));
  // Canonical form: keys sorted whatever the file order.
  EXPECT_EQ(f.dump(), R"({"lr":0.0002,"model":"llama2-7b","note":"$$literal","shape":[1,2],"steps":10,"tag":"4096","use_lora":true})");

  ASSERT_EQ(e.matrix.sweep.size(), 3u);
  EXPECT_EQ(e.matrix.sweep[0].first, "method");  // declared order kept
  EXPECT_EQ(e.matrix.sweep[0].second, (std::vector<Json>{"base", "jenga"}));
  EXPECT_EQ(e.matrix.sweep[1].first, "seq_len");
  EXPECT_EQ(e.matrix.sweep[1].second, (std::vector<Json>{"$lengths"}));
  EXPECT_EQ(e.matrix.sweep[2].second, (std::vector<Json>{1, "$extra"}));
  ASSERT_EQ(e.matrix.include.size(), 1u);
  EXPECT_EQ(e.matrix.include[0], Json::parse(R"({"method":"longlora","seq_len":4096})"));
  ASSERT_EQ(e.matrix.exclude.size(), 1u);
  EXPECT_EQ(e.matrix.exclude[0], Json::parse(R"({"method":"jenga","batch":1})"));

  ASSERT_EQ(e.profiles.size(), 2u);
  EXPECT_EQ(e.profiles.at("cpu").fixed.at("model"), "tiny-llama");
  EXPECT_EQ(e.profiles.at("cpu").sweep.at(0).second, (std::vector<Json>{"base"}));
  EXPECT_EQ(e.profiles.at("h100").exclude.at(0), Json::parse(R"({"seq_len":8192})"));
  ASSERT_TRUE(e.quick.has_value());
  EXPECT_EQ(e.quick->fixed.at("steps"), 2);

  ASSERT_EQ(e.figures.size(), 2u);
  const auto& g = e.figures[0];
  EXPECT_EQ(g.id, "fig12-memory");
  EXPECT_EQ(g.group, "sample");  // defaults to the experiment name
  EXPECT_EQ(g.type, "grouped_bars");
  EXPECT_EQ(g.title, "Peak memory");
  EXPECT_EQ(g.x, "seq_len");
  EXPECT_EQ(g.y, "peak_allocated_mib");
  EXPECT_EQ(g.series, "method");
  EXPECT_EQ(g.facet, "model");
  EXPECT_EQ(g.filter, Json::parse(R"({"batch":1})"));
  EXPECT_EQ(g.x_label, "tokens");
  EXPECT_EQ(g.y_label, "GiB");
  EXPECT_DOUBLE_EQ(g.y_scale, 1.0 / 1024);
  EXPECT_TRUE(g.log_x);
  EXPECT_EQ(g.baseline, "base");
  EXPECT_EQ(g.annotate, "reduction");
  EXPECT_EQ(g.paper, "Fig 12");
  EXPECT_EQ(g.caption, "peak allocated memory per step");
  EXPECT_EQ(g.labels, (std::map<std::string, std::string>{{"base", "LoRA"}, {"4096", "4K"}}));
  EXPECT_TRUE(g.log_y);
  EXPECT_DOUBLE_EQ(g.x_scale, 1.0);
  EXPECT_DOUBLE_EQ(e.figures[1].x_scale, 0.001);
  EXPECT_FALSE(e.figures[1].log_y);
  EXPECT_EQ(e.figures[1].group, "fig12");
  EXPECT_EQ(e.figures[1].stack, (std::vector<std::string>{"attn_ms", "mlp_ms"}));

  ASSERT_EQ(e.tables.size(), 2u);
  EXPECT_EQ(e.tables[0].id, "tab3");
  EXPECT_EQ(e.tables[0].type, "pivot");
  EXPECT_TRUE(e.tables[0].row_keys.empty());
  EXPECT_DOUBLE_EQ(e.tables[0].scale, 0.001);
  EXPECT_EQ(e.tables[0].labels.at("step_time_ms"), "step time");
  const auto& v = e.tables[1];
  EXPECT_EQ(v.type, "vs_baseline");
  EXPECT_EQ(v.rows, "model");
  EXPECT_EQ(v.row_keys, (std::vector<std::string>{"model", "seq_len"}));
  EXPECT_EQ(v.columns, "method");
  EXPECT_EQ(v.baseline, "base");
  EXPECT_EQ(v.value, "");
  EXPECT_EQ(v.paper, "Fig 12-13");
  EXPECT_EQ(v.caption, "reductions");
  ASSERT_EQ(v.ratios.size(), 2u);
  EXPECT_EQ(v.ratios[0].value, "peak_allocated_mib");
  EXPECT_EQ(v.ratios[0].label, "memory reduction");
  EXPECT_EQ(v.ratios[0].unit, "GiB");
  EXPECT_DOUBLE_EQ(v.ratios[0].scale, 1.0 / 1024);
  EXPECT_EQ(v.ratios[0].format, "{:.1f}");
  EXPECT_FALSE(v.ratios[0].higher_is_better);
  EXPECT_EQ(v.ratios[1].format, "{:.1f}");  // default
  EXPECT_TRUE(v.ratios[1].higher_is_better);
  EXPECT_EQ(e.tables[0].rows, "model");
  EXPECT_EQ(e.tables[0].columns, "method");
  EXPECT_EQ(e.tables[0].value, "step_time_ms");
  EXPECT_EQ(e.tables[0].filter, Json::parse(R"({"seq_len":4096})"));
  EXPECT_EQ(e.tables[0].format, "{:.1f}");
}

TEST(ExperimentLoad, MinimalExperimentHasDefaults) {
  TempTree t;
  const Experiment e = load_experiment(t.write("experiments/m.yaml", "name: m\ntask: info\nmatrix: {}\n"));
  EXPECT_TRUE(e.paper.empty());
  EXPECT_TRUE(e.matrix.fixed.is_object());
  EXPECT_TRUE(e.matrix.fixed.empty());
  EXPECT_TRUE(e.matrix.sweep.empty());
  EXPECT_FALSE(e.quick.has_value());
  EXPECT_TRUE(e.figures.empty());
  EXPECT_TRUE(e.tables.empty());
}

TEST(ExperimentLoad, ScalarTyping) {
  TempTree t;
  const Experiment e = load_experiment(t.write("experiments/s.yaml",
                                               "name: s\ntask: info\nmatrix:\n  fixed:\n"
                                               "    a: -12\n    b: +3\n    c: 1e3\n    d: .5\n    e: False\n"
                                               "    f: yes\n    g: 1.2.3\n    h: '12'\n    i: 0x1F\n    j: \"true\"\n"
                                               "    k: 9223372036854775807\n    l: |\n      block\n"));
  const Json& f = e.matrix.fixed;
  EXPECT_EQ(f.at("a"), -12);
  EXPECT_TRUE(f.at("a").is_number_integer());
  EXPECT_EQ(f.at("b"), 3);
  EXPECT_TRUE(f.at("c").is_number_float());
  EXPECT_DOUBLE_EQ(f.at("c").get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(f.at("d").get<double>(), 0.5);
  EXPECT_EQ(f.at("e"), false);
  EXPECT_EQ(f.at("f"), "yes");  // YAML 1.1 booleans are plain strings in 1.2
  EXPECT_EQ(f.at("g"), "1.2.3");
  EXPECT_EQ(f.at("h"), "12");
  EXPECT_EQ(f.at("i"), "0x1F");  // only decimal integers are numbers
  EXPECT_EQ(f.at("j"), "true");
  EXPECT_EQ(f.at("k").get<std::int64_t>(), INT64_MAX);
  EXPECT_EQ(f.at("l"), "block\n");
}

TEST(ExperimentLoad, LoadAllIsSortedAndChecksEachFile) {
  TempTree t;
  t.write("experiments/b.yaml", "name: b\ntask: info\nmatrix: {}\n");
  t.write("experiments/a.yaml", "name: a\ntask: info\nmatrix: {}\n");
  t.write("experiments/notes.txt", "not yaml");
  const auto all = load_all_experiments(t.root());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");

  t.write("experiments/c.yaml", "name: c\ntask: info\n");
  const auto e = expect_error([&] { load_all_experiments(t.root()); });
  EXPECT_CONTAINS(e.what(), "c.yaml:1:1: missing required key 'matrix'");

  TempTree empty;
  const auto e2 = expect_error([&] { load_all_experiments(empty.root()); });
  EXPECT_CONTAINS(e2.what(), "no experiments directory");
}

}  // namespace
