// HF config.json -> ModelConfig. Follows transformers' own defaults for optional keys (so a
// config HF loads means the same model here) and refuses what the model code cannot build
// (other activations, bias-free OPT, untied OPT head, unknown RoPE types) rather than guessing.
#include "jenga/core/model/config.hpp"

#include "jenga/core/error.hpp"

#include <fstream>
#include <limits>

namespace jenga::core {
namespace {

using nlohmann::json;

// Typed access to one JSON object with messages that name the source file and the key.
class Keys {
 public:
  Keys(const json& j, std::string source, std::string prefix = "")
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

  // Present and not null (HF writes null for "use the default").
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw Error(msg(source_, ": key '", prefix_, key, "': ", what));
  }

  const json& at(const char* key) const {
    if (!has(key)) fail(key, "missing (required)");
    return j_.at(key);
  }

  int64_t integer(const char* key) const {
    const auto& v = at(key);
    if (v.is_number_integer()) return v.get<int64_t>();
    // 4096.0 is a sloppy but unambiguous integer.
    if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
      return static_cast<int64_t>(v.get<double>());
    fail(key, msg("expected an integer, got ", v.dump()));
  }
  int64_t positive(const char* key) const {
    const auto v = integer(key);
    if (v <= 0) fail(key, msg("must be positive, got ", v));
    return v;
  }
  int64_t positive_or(const char* key, int64_t def) const { return has(key) ? positive(key) : def; }
  int64_t integer_or(const char* key, int64_t def) const { return has(key) ? integer(key) : def; }

  double number(const char* key) const {
    const auto& v = at(key);
    if (!v.is_number()) fail(key, msg("expected a number, got ", v.dump()));
    return v.get<double>();
  }
  double number_or(const char* key, double def) const { return has(key) ? number(key) : def; }
  double positive_number_or(const char* key, double def) const {
    const double v = number_or(key, def);
    if (!(v > 0)) fail(key, msg("must be positive, got ", v));
    return v;
  }

  bool boolean_or(const char* key, bool def) const {
    if (!has(key)) return def;
    const auto& v = j_.at(key);
    if (!v.is_boolean()) fail(key, msg("expected true/false, got ", v.dump()));
    return v.get<bool>();
  }

  std::string string_or(const char* key, const std::string& def) const {
    if (!has(key)) return def;
    const auto& v = j_.at(key);
    if (!v.is_string()) fail(key, msg("expected a string, got ", v.dump()));
    return v.get<std::string>();
  }

  const std::string& source() const { return source_; }

 private:
  const json& j_;
  std::string source_, prefix_;
};

// RoPE: transformers <= 4.x writes rope_theta + rope_scaling at top level; 5.x writes one
// rope_parameters object holding rope_theta too. Both are read; rope_parameters wins.
void parse_rope(const json& j, const Keys& top, ModelConfig& c) {
  c.rope_theta = top.positive_number_or("rope_theta", 10000.0);
  const char* block = top.has("rope_parameters") ? "rope_parameters" : top.has("rope_scaling") ? "rope_scaling" : nullptr;
  if (!block) return;
  const auto& rp = j.at(block);
  if (!rp.is_object()) top.fail(block, msg("expected an object or null, got ", rp.dump()));
  const Keys r(rp, top.source(), std::string(block) + ".");
  c.rope_theta = r.positive_number_or("rope_theta", c.rope_theta);
  if (r.has("partial_rotary_factor") && r.number("partial_rotary_factor") != 1.0)
    r.fail("partial_rotary_factor", "partial rotary embeddings are not supported for llama");
  std::string type = r.string_or("rope_type", r.string_or("type", "default"));
  auto& s = c.rope_scaling;
  if (type == "default" || type == "none") {
    s = RopeScaling{};
    return;
  }
  s.type = type;
  if (type == "linear" || type == "dynamic") {
    if (!r.has("factor")) r.fail("factor", "missing (required for rope_type " + type + ")");
    s.factor = r.positive_number_or("factor", 1.0);
    return;
  }
  if (type == "llama3") {
    for (const char* k : {"factor", "low_freq_factor", "high_freq_factor"})
      if (!r.has(k)) r.fail(k, "missing (required for rope_type llama3)");
    s.factor = r.positive_number_or("factor", 1.0);
    s.low_freq_factor = r.positive_number_or("low_freq_factor", 1.0);
    s.high_freq_factor = r.positive_number_or("high_freq_factor", 4.0);
    if (!(s.high_freq_factor > s.low_freq_factor))
      r.fail("high_freq_factor", msg("must exceed low_freq_factor (", s.low_freq_factor, "), got ", s.high_freq_factor));
    // transformers 5 lets a top-level original_max_position_embeddings override the block's,
    // and falls back to max_position_embeddings.
    s.original_max_position_embeddings =
        top.has("original_max_position_embeddings")
            ? top.positive("original_max_position_embeddings")
            : r.positive_or("original_max_position_embeddings", c.max_position_embeddings);
    return;
  }
  r.fail(r.has("rope_type") ? "rope_type" : "type",
         msg("unsupported RoPE type '", type, "' (supported: default, linear, dynamic, llama3)"));
}

std::string dtype_of(const Keys& k) {
  // transformers 5 renamed torch_dtype to dtype.
  return k.string_or("dtype", k.string_or("torch_dtype", "bfloat16"));
}

void parse_llama(const json& j, const Keys& k, ModelConfig& c) {
  c.family = Family::Llama;
  c.vocab_size = k.positive("vocab_size");
  c.hidden_size = k.positive("hidden_size");
  c.intermediate_size = k.positive("intermediate_size");
  c.num_layers = k.positive("num_hidden_layers");
  c.num_heads = k.positive("num_attention_heads");
  c.num_kv_heads = k.positive_or("num_key_value_heads", c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    k.fail("num_key_value_heads", msg(c.num_kv_heads, " does not divide num_attention_heads ", c.num_heads));
  if (k.has("head_dim")) {
    c.head_dim = k.positive("head_dim");
  } else {
    if (c.hidden_size % c.num_heads != 0)
      k.fail("num_attention_heads", msg(c.num_heads, " does not divide hidden_size ", c.hidden_size));
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim % 2 != 0) k.fail("head_dim", msg("RoPE needs an even head dimension, got ", c.head_dim));
  c.max_position_embeddings = k.positive("max_position_embeddings");
  c.rms_norm_eps = k.positive_number_or("rms_norm_eps", 1e-6);
  const auto act = k.string_or("hidden_act", "silu");
  if (act != "silu") k.fail("hidden_act", msg("'", act, "' is not supported (llama uses silu)"));
  c.tie_word_embeddings = k.boolean_or("tie_word_embeddings", false);
  c.attention_bias = k.boolean_or("attention_bias", false);
  c.mlp_bias = k.boolean_or("mlp_bias", false);
  parse_rope(j, k, c);
}

void parse_opt(const Keys& k, ModelConfig& c) {
  c.family = Family::Opt;
  c.vocab_size = k.positive("vocab_size");
  // Very old OPT configs call the width d_model (transformers maps hidden_size onto it).
  c.hidden_size = k.has("hidden_size") || !k.has("d_model") ? k.positive("hidden_size") : k.positive("d_model");
  c.intermediate_size = k.positive("ffn_dim");
  c.num_layers = k.positive("num_hidden_layers");
  c.num_heads = k.positive("num_attention_heads");
  if (c.hidden_size % c.num_heads != 0)
    k.fail("num_attention_heads", msg(c.num_heads, " does not divide hidden_size ", c.hidden_size));
  c.num_kv_heads = c.num_heads;
  c.head_dim = c.hidden_size / c.num_heads;
  c.max_position_embeddings = k.positive("max_position_embeddings");
  c.word_embed_proj_dim = k.positive_or("word_embed_proj_dim", c.hidden_size);
  c.do_layer_norm_before = k.boolean_or("do_layer_norm_before", true);
  // HF builds the decoder's final LayerNorm only for pre-norm models not marked otherwise.
  c.opt_final_layer_norm = c.do_layer_norm_before && !k.boolean_or("_remove_final_layer_norm", false);
  c.pad_token_id = k.integer_or("pad_token_id", 1);
  c.layer_norm_eps = 1e-5;  // nn.LayerNorm's default; OPT's config has no key for it
  const auto act = k.string_or("activation_function", "relu");
  if (act != "relu") k.fail("activation_function", msg("'", act, "' is not supported (OPT uses relu)"));
  if (!k.boolean_or("enable_bias", true)) k.fail("enable_bias", "bias-free OPT is not supported");
  if (!k.boolean_or("layer_norm_elementwise_affine", true))
    k.fail("layer_norm_elementwise_affine", "LayerNorm without affine parameters is not supported");
  c.tie_word_embeddings = k.boolean_or("tie_word_embeddings", true);
  if (!c.tie_word_embeddings) k.fail("tie_word_embeddings", "OPT with an untied lm_head is not supported");
}

}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(msg(source, ": config is not a JSON object (found ", j.type_name(), ")"));
  const Keys k(j, source);
  ModelConfig c;
  c.model_type = k.string_or("model_type", "");
  if (c.model_type.empty()) k.fail("model_type", "missing (required)");
  c.torch_dtype = dtype_of(k);
  if (c.model_type == "llama") {
    parse_llama(j, k, c);
  } else if (c.model_type == "opt") {
    parse_opt(k, c);
  } else {
    k.fail("model_type", msg("unknown model_type '", c.model_type, "' (supported: llama, opt)"));
  }
  return c;
}

ModelConfig ModelConfig::from_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(msg(path, ": cannot open config.json"));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw Error(msg(path, ": not valid JSON (", e.what(), ")"));
  }
  return from_json(j, path);
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j;
  j["model_type"] = family == Family::Llama ? "llama" : "opt";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = num_heads;
  j["max_position_embeddings"] = max_position_embeddings;
  // OPT's head is always the token embedding (the model code has no separate lm_head).
  j["tie_word_embeddings"] = family == Family::Opt || tie_word_embeddings;
  j["torch_dtype"] = torch_dtype;
  if (family == Family::Llama) {
    j["architectures"] = {"LlamaForCausalLM"};
    j["intermediate_size"] = intermediate_size;
    j["num_key_value_heads"] = num_kv_heads;
    j["head_dim"] = head_dim;
    j["rms_norm_eps"] = rms_norm_eps;
    j["hidden_act"] = "silu";
    j["attention_bias"] = attention_bias;
    j["mlp_bias"] = mlp_bias;
    // The 4.x layout: every transformers version reads it (5.x converts it to rope_parameters).
    j["rope_theta"] = rope_theta;
    const auto& s = rope_scaling;
    if (s.type == "none" || s.type == "default") {
      j["rope_scaling"] = nullptr;
    } else if (s.type == "llama3") {
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", s.factor},
                           {"low_freq_factor", s.low_freq_factor},
                           {"high_freq_factor", s.high_freq_factor},
                           {"original_max_position_embeddings", s.original_max_position_embeddings}};
    } else {
      j["rope_scaling"] = {{"rope_type", s.type}, {"factor", s.factor}};
    }
    j["bos_token_id"] = 1;
    j["eos_token_id"] = 2;
  } else {
    if (!do_layer_norm_before && opt_final_layer_norm)
      throw Error("ModelConfig::to_json: OPT with post-norm layers and a final LayerNorm has no HF config.json form");
    j["architectures"] = {"OPTForCausalLM"};
    j["ffn_dim"] = intermediate_size;
    j["word_embed_proj_dim"] = word_embed_proj_dim > 0 ? word_embed_proj_dim : hidden_size;
    j["do_layer_norm_before"] = do_layer_norm_before;
    j["_remove_final_layer_norm"] = do_layer_norm_before && !opt_final_layer_norm;
    j["activation_function"] = "relu";
    j["enable_bias"] = true;
    j["layer_norm_elementwise_affine"] = true;
    j["pad_token_id"] = pad_token_id;
    j["bos_token_id"] = 2;
    j["eos_token_id"] = 2;
  }
  return j;
}

int64_t ModelConfig::num_params() const {
  const int64_t H = hidden_size, V = vocab_size, L = num_layers;
  if (family == Family::Llama) {
    const int64_t q = num_heads * head_dim, kv = num_kv_heads * head_dim, I = intermediate_size;
    int64_t layer = H * q + 2 * H * kv + q * H  // q, k, v, o
                    + 3 * H * I                // gate, up, down
                    + 2 * H;                   // input / post-attention RMSNorm
    if (attention_bias) layer += q + 2 * kv + H;
    if (mlp_bias) layer += 2 * I + H;
    return V * H * (tie_word_embeddings ? 1 : 2) + H /* final norm */ + L * layer;
  }
  // OPT: biases everywhere, two LayerNorms per layer, learned positions with an offset of 2,
  // lm_head always tied to the token embedding (from_json refuses untied OPT).
  const int64_t E = word_embed_proj_dim > 0 ? word_embed_proj_dim : H, F = intermediate_size;
  int64_t n = V * E + (max_position_embeddings + 2) * H;
  if (E != H) n += 2 * E * H;  // project_in / project_out, no bias
  if (opt_final_layer_norm) n += 2 * H;
  n += L * (4 * (H * H + H) + (F * H + F) + (H * F + H) + 2 * 2 * H);
  return n;
}

}  // namespace jenga::core
