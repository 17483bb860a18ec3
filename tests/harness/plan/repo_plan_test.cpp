// Every committed experiment must load and expand under every committed profile, quick or not.
#include "harness/plan/plan.hpp"
#include "harness/spec/spec_files.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <functional>
#include <set>

namespace {

const std::string kRoot = JENGA_SOURCE_DIR;

bool has_reference(const jenga::harness::Json& v) {
  if (v.is_string()) return !v.get<std::string>().empty() && v.get<std::string>()[0] == '$';
  if (v.is_structured())
    for (const auto& item : v) if (has_reference(item)) return true;
  return false;
}

TEST(RepoPlan, EveryExperimentExpandsForEveryProfile) {
  const auto experiments = jenga::harness::load_all_experiments(kRoot);
  const auto profiles = jenga::harness::yaml_stems(kRoot + "/configs/profiles");
  ASSERT_FALSE(experiments.empty());
  ASSERT_GE(profiles.size(), 5u);
  for (const auto& e : experiments) {
    for (const auto& name : profiles) {
      const auto p = jenga::harness::find_profile(kRoot, name);
      for (bool quick : {false, true}) {
        jenga::harness::PlanOptions opt;
        opt.quick = quick;
        const auto runs = jenga::harness::expand(e, p, opt);
        EXPECT_FALSE(runs.empty()) << e.name << " on " << name;
        std::set<std::string> keys;
        for (const auto& r : runs) {
          keys.insert(r.key);
          EXPECT_FALSE(has_reference(r.params)) << e.name << " on " << name << ": " << r.params.dump();
        }
        EXPECT_EQ(keys.size(), runs.size());
      }
    }
  }
}

TEST(RepoPlan, SmokeExpandsToMethodTimesLengths) {
  const auto smoke = jenga::harness::load_experiment(kRoot + "/experiments/smoke.yaml");
  for (const auto& name : jenga::harness::yaml_stems(kRoot + "/configs/profiles")) {
    const auto p = jenga::harness::find_profile(kRoot, name);
    const auto runs = jenga::harness::expand(smoke, p);
    const auto axis = std::find_if(smoke.matrix.sweep.begin(), smoke.matrix.sweep.end(),
                                   [](const auto& a) { return a.first == "method"; });
    ASSERT_NE(axis, smoke.matrix.sweep.end());
    const auto& methods = axis->second;
    ASSERT_EQ(runs.size(), methods.size() * p.sizes.at("lengths").size()) << name;
    EXPECT_EQ(runs.front().params.at("method"), methods.front());
    EXPECT_EQ(runs.back().params.at("method"), methods.back());
    EXPECT_EQ(runs.front().params.at("seq_len"), p.sizes.at("lengths").front());
    EXPECT_EQ(runs.front().params.at("model"), "tiny-llama");
    EXPECT_EQ(runs.front().params.at("steps"), name == "cpu" ? 3 : 5);
    jenga::harness::PlanOptions quick;
    quick.quick = true;
    EXPECT_EQ(jenga::harness::expand(smoke, p, quick).front().params.at("steps"), 2);
  }
}

}  // namespace
