// Tiny architectures for CPU tests (random init; shapes exercise GQA, biases, OPT projections).
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <memory>
#include <vector>

namespace jenga::test {

inline jenga::core::ModelConfig tiny_llama(bool gqa = true) {
  jenga::core::ModelConfig c;
  c.family = jenga::core::Family::Llama;
  c.model_type = "llama";
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = gqa ? 2 : 4;
  c.head_dim = 8;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000;
  return c;
}

inline jenga::core::ModelConfig tiny_opt(bool pre_norm = true) {
  jenga::core::ModelConfig c;
  c.family = jenga::core::Family::Opt;
  c.model_type = "opt";
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 4;
  c.head_dim = 8;
  c.max_position_embeddings = 128;
  c.word_embed_proj_dim = pre_norm ? 32 : 16;
  c.do_layer_norm_before = pre_norm;
  c.opt_final_layer_norm = pre_norm;
  c.tie_word_embeddings = true;
  return c;
}

// The model (random init, seed 7) with LoRA adapters on every default target, given random
// values: fresh adapters have B = 0 and would leave outputs and most gradients untouched.
inline std::unique_ptr<jenga::core::CausalLM> with_random_lora(const jenga::core::ModelConfig& cfg, const jenga::core::ModelOptions& o) {
  auto m = jenga::core::make_causal_lm(cfg, o, "", 7);
  m->add_lora({}, 11);
  at::manual_seed(3);
  at::NoGradGuard ng;
  for (auto& t : m->trainable_parameters()) t.normal_(0, 0.1);
  return m;
}

// The adapters' gradients of the dense next-token loss on ids (earlier gradients cleared).
inline std::vector<at::Tensor> lora_grads(jenga::core::CausalLM& m, const at::Tensor& ids, const jenga::core::LayerHooks& hooks = {}) {
  for (auto& t : m.trainable_parameters()) t.mutable_grad() = at::Tensor();
  const auto h = m.forward_hidden(ids, hooks);
  jenga::core::dense_lm_loss(h, m.lm_head_weight(), jenga::core::next_token_labels(ids)).backward();
  std::vector<at::Tensor> g;
  for (auto& t : m.trainable_parameters()) g.push_back(t.grad().clone());
  return g;
}

}  // namespace jenga::test
