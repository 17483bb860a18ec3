// The reader on files real HF tooling wrote: tests/fixtures/golden/ (transformers 5 save_pretrained,
// one sharded; PEFT adapters). Every config parses (transformers 5 writes rope_parameters and
// dtype), num_params() equals HF's count, every checkpoint opens and holds exactly that many numbers.
#include "jenga/core/io/safetensors.hpp"
#include "jenga/core/model/config.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/posix_files.hpp"
#include <fstream>

using jenga::core::Checkpoint;
using jenga::core::ModelConfig;
using jenga::core::SafetensorsFile;

namespace {

const std::string kGolden = std::string(JENGA_TEST_FIXTURES) + "/golden";

nlohmann::json manifest() {
  std::ifstream f(kGolden + "/manifest.json");
  return nlohmann::json::parse(f);
}

}  // namespace

TEST(GoldenFiles, ConfigsAndCheckpointsOfEveryCase) {
  if (!jenga::core::posix_files::is_regular_file(kGolden + "/manifest.json")) GTEST_SKIP() << "no golden fixtures (scripts/make_golden_fixtures.py)";
  const auto m = manifest();
  ASSERT_GE(m["cases"].size(), 5u);
  for (const auto& c : m["cases"]) {
    const std::string name = c["name"], dir = kGolden + "/" + name;
    SCOPED_TRACE(name);
    const auto cfg = ModelConfig::from_file(dir + "/config.json");
    EXPECT_EQ(cfg.num_params(), c["num_params"].get<int64_t>());

    const Checkpoint ck(dir);
    int64_t numel = 0;
    for (const auto& n : ck.names()) numel += ck.load(n, at::kCPU, at::kFloat).numel();
    EXPECT_EQ(numel, cfg.num_params()) << "tied heads are not stored, so the file holds exactly the base parameters";
    EXPECT_EQ(jenga::core::posix_files::is_regular_file(dir + "/model.safetensors.index.json"), c["sharded"].get<bool>());

    std::ifstream in(dir + "/inputs.json");
    const auto inputs = nlohmann::json::parse(in);
    EXPECT_EQ(inputs["input_ids"].size(), m["seq_len"].get<size_t>());
    const SafetensorsFile exp(dir + "/expected.safetensors");
    EXPECT_EQ(exp.info("logits").shape, (std::vector<int64_t>{m["seq_len"].get<int64_t>(), cfg.vocab_size}));
    EXPECT_EQ(exp.info("logits").dtype, at::kFloat);
    EXPECT_TRUE(exp.info("loss").shape.empty()) << "a 0-d tensor";
    EXPECT_NEAR(exp.load("loss", at::kCPU, at::kDouble).item<double>(), c["loss"].get<double>(), 1e-5);
  }
}

TEST(GoldenFiles, Transformers5RopeLayouts) {
  if (!jenga::core::posix_files::is_regular_file(kGolden + "/manifest.json")) GTEST_SKIP() << "no golden fixtures";
  const auto l3 = ModelConfig::from_file(kGolden + "/llama3/config.json");
  EXPECT_EQ(l3.rope_theta, 500000.0);
  EXPECT_EQ(l3.rope_scaling.type, "llama3");
  EXPECT_EQ(l3.rope_scaling.factor, 8.0);
  EXPECT_EQ(l3.rope_scaling.original_max_position_embeddings, 64);
  EXPECT_EQ(l3.num_kv_heads, 2);
  EXPECT_TRUE(l3.tie_word_embeddings);
  EXPECT_EQ(l3.torch_dtype, "float32");
  const auto lin = ModelConfig::from_file(kGolden + "/llama_linear/config.json");
  EXPECT_EQ(lin.rope_scaling.type, "linear");
  EXPECT_EQ(lin.rope_scaling.factor, 2.0);
  EXPECT_EQ(ModelConfig::from_file(kGolden + "/llama2/config.json").rope_scaling.type, "none");
  const auto opt = ModelConfig::from_file(kGolden + "/opt_postnorm_proj/config.json");
  EXPECT_EQ(opt.word_embed_proj_dim, 32);
  EXPECT_FALSE(opt.opt_final_layer_norm);
  EXPECT_TRUE(ModelConfig::from_file(kGolden + "/opt_prenorm/config.json").opt_final_layer_norm);
}

TEST(GoldenFiles, PeftAdapterAndGradients) {
  if (!jenga::core::posix_files::is_regular_file(kGolden + "/manifest.json")) GTEST_SKIP() << "no golden fixtures";
  const std::string dir = kGolden + "/llama3/lora";
  const SafetensorsFile adapter(dir + "/adapter_model.safetensors");
  const SafetensorsFile grads(dir + "/grads.safetensors");
  EXPECT_EQ(adapter.names(), grads.names());
  EXPECT_EQ(adapter.names().size(), 16u);  // 2 layers x q/k/v/o x A/B
  const auto& a = adapter.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(adapter.info("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight").shape,
            (std::vector<int64_t>{32, 4}));  // 2 kv heads x head_dim 16
  for (const auto& n : grads.names()) EXPECT_EQ(grads.info(n).shape, adapter.info(n).shape) << n;
  std::ifstream in(dir + "/adapter_config.json");
  const auto cfg = nlohmann::json::parse(in);
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["lora_alpha"], 8);
}
