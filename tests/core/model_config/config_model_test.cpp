// config.json + safetensors against the model code: num_params() equals the weights the model
// actually builds, and a model saved as an HF directory (to_json + save_safetensors) loads back
// through Checkpoint with identical logits.
#include "jenga/core/io/safetensors.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/model/config.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "io/posix_files.hpp"
#include <fstream>
#include <unistd.h>

using jenga::core::Family;
using jenga::core::ModelConfig;
using jenga::core::ModelOptions;

namespace {

ModelConfig tiny(const std::string& which) {
  nlohmann::json j;
  if (which == "llama" || which == "llama-tied-bias") {
    j = {{"model_type", "llama"}, {"vocab_size", 97}, {"hidden_size", 32}, {"intermediate_size", 48},
         {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
         {"max_position_embeddings", 64}, {"rope_theta", 10000.0}};
    if (which == "llama-tied-bias") {
      j["tie_word_embeddings"] = true;
      j["attention_bias"] = true;
      j["mlp_bias"] = true;
    }
  } else {
    j = {{"model_type", "opt"}, {"vocab_size", 97}, {"hidden_size", 32}, {"ffn_dim", 64}, {"num_hidden_layers", 2},
         {"num_attention_heads", 4}, {"max_position_embeddings", 64},
         {"word_embed_proj_dim", which == "opt-post" ? 16 : 32}, {"do_layer_norm_before", which != "opt-post"}};
  }
  return ModelConfig::from_json(j, which);
}

int64_t numel_of(const std::map<std::string, at::Tensor>& w) {
  int64_t n = 0;
  for (const auto& [name, t] : w) n += t.numel();
  return n;
}

}  // namespace

TEST(ConfigVsModel, NumParamsEqualsBuiltWeights) {
  for (const char* which : {"llama", "llama-tied-bias", "opt-pre", "opt-post"}) {
    SCOPED_TRACE(which);
    const auto cfg = tiny(which);
    ModelOptions o;
    o.dtype = at::kFloat;
    const auto m = jenga::core::make_causal_lm(cfg, o, "", 1);
    EXPECT_EQ(numel_of(m->base_weights()), cfg.num_params());
  }
}

TEST(ConfigVsModel, SavedHfDirectoryLoadsBack) {
  const std::string dir = "/tmp/jenga_cfg_model_" + std::to_string(::getpid());
  for (const char* which : {"llama", "llama-tied-bias", "opt-pre", "opt-post"}) {
    SCOPED_TRACE(which);
    jenga::core::posix_files::remove_tree(dir);
    jenga::core::posix_files::make_directories(dir);
    const auto cfg = tiny(which);
    ModelOptions o;
    o.dtype = at::kFloat;
    const auto a = jenga::core::make_causal_lm(cfg, o, "", 5);
    // Norm weights start at 1 and biases at 0; perturb everything so a mix-up would show.
    std::map<std::string, at::Tensor> state;
    at::manual_seed(2);
    for (const auto& [name, t] : a->base_weights()) state[name] = t + 0.01 * at::randn_like(t);
    jenga::core::save_safetensors(dir + "/model.safetensors", state, {{"format", "pt"}});
    std::ofstream(dir + "/config.json") << cfg.to_json().dump(2);

    const auto cfg2 = ModelConfig::from_file(dir + "/config.json");
    const auto b = jenga::core::make_causal_lm(cfg2, o, dir, 0);
    for (const auto& [name, t] : state) EXPECT_TRUE(at::equal(b->base_weights().at(name), t)) << name;
    const auto ids = at::randint(cfg.vocab_size, {12}, at::kLong);
    at::Tensor logits;
    try {
      logits = b->logits(ids);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "forward failed: " << std::string(e.what()).substr(0, 200);
      continue;
    }
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{12, cfg.vocab_size}));
    EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  }
  jenga::core::posix_files::remove_tree(dir);
}
