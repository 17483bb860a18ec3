// The spec files committed in the repository must load; model configs must point at real
// HF config.json files whose architecture matches their family.
#include "harness/spec/experiment.hpp"
#include "harness/spec/model_config.hpp"
#include "harness/spec/profile.hpp"
#include "harness/spec/spec_files.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace {

const std::string kRoot = JENGA_SOURCE_DIR;

TEST(RepoSpecs, ProfilesLoad) {
  const auto names = jenga::harness::yaml_stems(kRoot + "/configs/profiles");
  for (const char* expected : {"a40", "a800", "cpu", "h100", "h200"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& n : names) {
    const auto p = jenga::harness::find_profile(kRoot, n);
    EXPECT_FALSE(p.description.empty()) << n;
    EXPECT_GT(p.timeout_s, 0) << n;
    EXPECT_TRUE(p.sizes.count("lengths")) << n << " must define $lengths";
    if (p.gpus == 0) {
      EXPECT_EQ(p.gpu_pattern, "") << n;
    }
  }
  EXPECT_EQ(jenga::harness::find_profile(kRoot, "h100").memory_gib, 80);
  EXPECT_EQ(jenga::harness::find_profile(kRoot, "a40").memory_gib, 48);
}

TEST(RepoSpecs, ModelsLoadAndMatchTheirHfConfig) {
  const auto names = jenga::harness::yaml_stems(kRoot + "/configs/models");
  for (const char* expected : {"opt-350m", "opt-1.3b", "opt-2.7b", "opt-6.7b", "llama2-7b", "llama3-8b", "tiny-llama"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& n : names) {
    const auto m = jenga::harness::find_model_config(kRoot, n);
    std::ifstream in(kRoot + "/" + m.hf_config);
    ASSERT_TRUE(in) << m.hf_config;
    const auto cfg = nlohmann::json::parse(in);
    EXPECT_EQ(cfg.at("model_type"), m.family) << n;
    EXPECT_GT(cfg.at("num_hidden_layers").get<int>(), 0) << n;
  }
  // Spot checks of the architecture facts the paper's comparisons rest on.
  auto cfg = [&](const std::string& n) {
    std::ifstream in(kRoot + "/" + jenga::harness::find_model_config(kRoot, n).hf_config);
    return nlohmann::json::parse(in);
  };
  EXPECT_EQ(cfg("llama3-8b").at("num_key_value_heads"), 8);
  EXPECT_EQ(cfg("llama2-7b").at("num_key_value_heads"), 32);
  EXPECT_EQ(cfg("opt-350m").at("word_embed_proj_dim"), 512);
  EXPECT_EQ(cfg("tiny-llama").at("hidden_size"), 64);
  EXPECT_EQ(jenga::harness::find_model_config(kRoot, "tiny-llama").checkpoint, "");
}

TEST(RepoSpecs, ExperimentsLoad) {
  const auto all = jenga::harness::load_all_experiments(kRoot);
  ASSERT_FALSE(all.empty());
  bool smoke = false;
  for (const auto& e : all) smoke = smoke || e.name == "smoke";
  EXPECT_TRUE(smoke);
}

}  // namespace
