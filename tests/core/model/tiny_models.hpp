// Tiny architectures for CPU tests (random init; shapes exercise GQA, biases, OPT projections).
#pragma once

#include "jenga/core/model/causal_lm.hpp"

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

}  // namespace jenga::test
