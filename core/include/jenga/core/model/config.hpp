// A model's architecture, read from a HF config.json (Llama family incl. Llama-3 GQA, and OPT).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace jenga::core {

enum class Family { Llama, Opt };

struct RopeScaling {
  std::string type = "none";  // "none" | "linear" | "llama3" | "dynamic" (dynamic: rejected for training)
  double factor = 1.0;
  // llama3-style frequency smoothing
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  Family family = Family::Llama;
  std::string model_type;          // "llama" | "opt" as in config.json
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;   // OPT: ffn_dim
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;        // == num_heads for MHA and OPT
  int64_t head_dim = 0;            // hidden_size / num_heads unless config says otherwise
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;      // Llama
  double layer_norm_eps = 1e-5;    // OPT
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;     // Llama q/k/v/o bias; OPT always has biases
  bool mlp_bias = false;
  // OPT specifics
  int64_t word_embed_proj_dim = 0; // OPT-350m projects 512 <-> 1024
  bool do_layer_norm_before = true;
  bool opt_final_layer_norm = true;  // present when do_layer_norm_before (HF: _remove_final_layer_norm false)
  int64_t pad_token_id = 1;
  std::string torch_dtype = "bfloat16";

  // Parses config.json content; `source` names the file for messages. Unknown model_type,
  // missing or non-positive sizes, heads not dividing hidden: Error naming the key.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source);
  static ModelConfig from_file(const std::string& path);
  nlohmann::json to_json() const;  // HF-style config.json of this architecture

  int64_t num_params() const;      // base parameters (no LoRA), for MFU and memory accounting
};

}  // namespace jenga::core
