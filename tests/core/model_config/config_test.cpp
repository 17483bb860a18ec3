// config.json parsing: the real HF configs of the models we benchmark (parameter counts checked
// against the published totals), RoPE in both the transformers 4.x and 5.x layouts, round trips
// through to_json(), and bad configs rejected with the offending key named.
#include "jenga/core/error.hpp"
#include "jenga/core/model/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

using jenga::core::Error;
using jenga::core::Family;
using jenga::core::ModelConfig;
using nlohmann::json;

namespace {

std::string hf_config(const std::string& name) { return std::string(JENGA_SOURCE_DIR) + "/configs/models/hf/" + name + "/config.json"; }

template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected jenga::core::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const auto& frag : fragments) EXPECT_NE(m.find(frag), std::string::npos) << "message: " << m << "\nmissing: " << frag;
  }
}

// A small valid Llama config to break one key at a time.
json llama_json() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 256, "hidden_size": 64,
    "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": null,
    "tie_word_embeddings": false, "hidden_act": "silu", "torch_dtype": "float32"})");
}

json opt_json() {
  return json::parse(R"({
    "architectures": ["OPTForCausalLM"], "model_type": "opt", "vocab_size": 256, "hidden_size": 64, "ffn_dim": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 128, "word_embed_proj_dim": 32,
    "do_layer_norm_before": false, "activation_function": "relu", "pad_token_id": 1, "torch_dtype": "float32"})");
}

}  // namespace

// ---- the real models: parameter totals as HF reports them (model.num_parameters()) -----------

TEST(ModelConfigReal, Llama2_7B) {
  const auto c = ModelConfig::from_file(hf_config("llama2-7b"));
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.num_kv_heads, 32);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.torch_dtype, "float16");
  EXPECT_EQ(c.num_params(), 6738415616);
}

TEST(ModelConfigReal, Llama3_8B) {
  const auto c = ModelConfig::from_file(hf_config("llama3-8b"));
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.num_params(), 8030261248);
}

TEST(ModelConfigReal, Opt350m) {
  const auto c = ModelConfig::from_file(hf_config("opt-350m"));
  EXPECT_EQ(c.family, Family::Opt);
  EXPECT_EQ(c.word_embed_proj_dim, 512);
  EXPECT_FALSE(c.do_layer_norm_before);
  EXPECT_FALSE(c.opt_final_layer_norm) << "post-norm OPT has no final LayerNorm";
  EXPECT_EQ(c.intermediate_size, 4096);
  EXPECT_EQ(c.num_kv_heads, 16);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.pad_token_id, 1);
  EXPECT_EQ(c.num_params(), 331196416);
}

TEST(ModelConfigReal, OptPreNorm) {
  const struct {
    const char* name;
    int64_t params;
  } models[] = {{"opt-1.3b", 1315758080}, {"opt-2.7b", 2651596800}, {"opt-6.7b", 6658473984}};
  for (const auto& m : models) {
    SCOPED_TRACE(m.name);
    const auto c = ModelConfig::from_file(hf_config(m.name));
    EXPECT_TRUE(c.do_layer_norm_before);
    EXPECT_TRUE(c.opt_final_layer_norm);
    EXPECT_EQ(c.word_embed_proj_dim, c.hidden_size);
    EXPECT_EQ(c.num_params(), m.params);
  }
}

TEST(ModelConfigReal, Llama31StyleRopeScaling) {
  // meta-llama/Llama-3.1-8B as transformers 4.43+ writes it.
  auto j = json::parse(std::ifstream(hf_config("llama3-8b")));
  j["max_position_embeddings"] = 131072;
  j["rope_scaling"] = {{"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}, {"rope_type", "llama3"}};
  const auto c = ModelConfig::from_json(j, "llama3.1");
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.num_params(), 8030261248);
}

// ---- RoPE layouts ------------------------------------------------------------------------------

TEST(ModelConfigRope, Transformers5RopeParameters) {
  auto j = llama_json();
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                          {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  auto c = ModelConfig::from_json(j, "v5");
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);

  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 250000.0}};
  c = ModelConfig::from_json(j, "v5");
  EXPECT_EQ(c.rope_theta, 250000.0);
  EXPECT_EQ(c.rope_scaling.type, "none");

  // llama3 without original_max_position_embeddings: transformers 5 falls back to max_position_embeddings.
  j["rope_parameters"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0}};
  EXPECT_EQ(ModelConfig::from_json(j, "v5").rope_scaling.original_max_position_embeddings, 128);
  EXPECT_EQ(ModelConfig::from_json(j, "v5").rope_theta, 10000.0) << "no theta anywhere: HF's default";
}

TEST(ModelConfigRope, LinearScalingOldAndNewKeys) {
  auto j = llama_json();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  auto c = ModelConfig::from_json(j, "old");
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_EQ(c.rope_scaling.factor, 2.0);
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4}};
  EXPECT_EQ(ModelConfig::from_json(j, "new").rope_scaling.factor, 4.0);
  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  EXPECT_EQ(ModelConfig::from_json(j, "dyn").rope_scaling.type, "dynamic") << "parsed; the model refuses to train with it";
}

// ---- to_json round trips ---------------------------------------------------------------------

TEST(ModelConfigJson, RoundTripLlama) {
  auto j = llama_json();
  j["tie_word_embeddings"] = true;
  j["attention_bias"] = true;
  j["mlp_bias"] = true;
  j["head_dim"] = 32;  // != hidden / heads: allowed when stated
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 64}};
  const auto a = ModelConfig::from_json(j, "a");
  const auto out = a.to_json();
  EXPECT_EQ(out["architectures"], json({"LlamaForCausalLM"}));
  const auto b = ModelConfig::from_json(out, "b");
  EXPECT_EQ(b.to_json(), out);
  EXPECT_EQ(b.head_dim, 32);
  EXPECT_EQ(b.num_kv_heads, 2);
  EXPECT_TRUE(b.tie_word_embeddings && b.attention_bias && b.mlp_bias);
  EXPECT_EQ(b.rope_scaling.type, "llama3");
  EXPECT_EQ(b.rope_scaling.original_max_position_embeddings, 64);
  EXPECT_EQ(b.num_params(), a.num_params());
  // Hand count: embed 256*64 (tied) + norm 64 + 2 layers x [q 64*128 + k,v 2*64*64 + o 128*64
  //   + biases 128+64+64+64 + mlp 3*64*160 + biases 160+160+64 + norms 128].
  const int64_t layer = 64 * 128 + 2 * 64 * 64 + 128 * 64 + (128 + 64 + 64 + 64) + 3 * 64 * 160 + (160 + 160 + 64) + 128;
  EXPECT_EQ(b.num_params(), 256 * 64 + 64 + 2 * layer);
}

TEST(ModelConfigJson, RoundTripOpt) {
  for (bool pre : {false, true}) {
    auto j = opt_json();
    j["do_layer_norm_before"] = pre;
    const auto a = ModelConfig::from_json(j, "a");
    const auto out = a.to_json();
    EXPECT_EQ(out["architectures"], json({"OPTForCausalLM"}));
    const auto b = ModelConfig::from_json(out, "b");
    EXPECT_EQ(b.to_json(), out);
    EXPECT_EQ(b.do_layer_norm_before, pre);
    EXPECT_EQ(b.opt_final_layer_norm, pre);
    EXPECT_EQ(b.word_embed_proj_dim, 32);
    // embed 256*32 + positions 130*64 + project in/out 2*32*64 (+ final LN 128 if pre-norm)
    //   + 2 layers x [attn 4*(64*64+64) + fc1 128*64+128 + fc2 64*128+64 + LNs 256]
    const int64_t layer = 4 * (64 * 64 + 64) + (128 * 64 + 128) + (64 * 128 + 64) + 256;
    EXPECT_EQ(b.num_params(), 256 * 32 + 130 * 64 + 2 * 32 * 64 + (pre ? 128 : 0) + 2 * layer);
  }
  auto j = opt_json();
  j["do_layer_norm_before"] = true;
  j["_remove_final_layer_norm"] = true;
  const auto c = ModelConfig::from_json(j, "removed");
  EXPECT_FALSE(c.opt_final_layer_norm);
  EXPECT_EQ(c.to_json()["_remove_final_layer_norm"], true);
}

TEST(ModelConfigJson, HandBuiltConfigsWriteTheirFamily) {
  ModelConfig c;  // model_type left empty, as test helpers build them
  c.family = Family::Opt;
  c.vocab_size = 10;
  c.hidden_size = 8;
  c.intermediate_size = 16;
  c.num_layers = 1;
  c.num_heads = 2;
  c.max_position_embeddings = 16;
  c.do_layer_norm_before = false;
  c.opt_final_layer_norm = true;  // not expressible in HF's config
  EXPECT_THROW(c.to_json(), Error);
  c.opt_final_layer_norm = false;
  EXPECT_EQ(c.to_json()["model_type"], "opt");
  EXPECT_EQ(ModelConfig::from_json(c.to_json(), "x").word_embed_proj_dim, 8);
}

TEST(ModelConfigJson, Transformers5DtypeKey) {
  auto j = llama_json();
  j.erase("torch_dtype");
  j["dtype"] = "bfloat16";
  EXPECT_EQ(ModelConfig::from_json(j, "v5").torch_dtype, "bfloat16");
}

// ---- bad configs: the message names the source and the key -----------------------------------

TEST(ModelConfigBad, MissingKeys) {
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                          "max_position_embeddings", "model_type"}) {
    SCOPED_TRACE(key);
    auto j = llama_json();
    j.erase(key);
    expect_error([&] { ModelConfig::from_json(j, "cfg.json"); }, {"cfg.json", std::string("'") + key + "'", "missing"});
  }
  auto o = opt_json();
  o.erase("ffn_dim");
  expect_error([&] { ModelConfig::from_json(o, "opt.json"); }, {"opt.json", "'ffn_dim'", "missing"});
}

TEST(ModelConfigBad, UnknownModelType) {
  auto j = llama_json();
  j["model_type"] = "gpt2";
  expect_error([&] { ModelConfig::from_json(j, "cfg.json"); }, {"cfg.json", "'model_type'", "'gpt2'"});
}

TEST(ModelConfigBad, HeadsMustDivide) {
  auto j = llama_json();
  j["num_attention_heads"] = 5;
  j["num_key_value_heads"] = 5;
  expect_error([&] { ModelConfig::from_json(j, "cfg.json"); }, {"'num_attention_heads'", "does not divide hidden_size 64"});
  j = llama_json();
  j["num_key_value_heads"] = 3;
  expect_error([&] { ModelConfig::from_json(j, "cfg.json"); }, {"'num_key_value_heads'", "3 does not divide num_attention_heads 4"});
  auto o = opt_json();
  o["num_attention_heads"] = 6;
  expect_error([&] { ModelConfig::from_json(o, "opt.json"); }, {"'num_attention_heads'", "does not divide"});
}

TEST(ModelConfigBad, WrongTypesAndValues) {
  auto j = llama_json();
  j["hidden_size"] = "64";
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'hidden_size'", "expected an integer"});
  j = llama_json();
  j["vocab_size"] = -1;
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'vocab_size'", "must be positive"});
  j = llama_json();
  j["hidden_size"] = 64.5;
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'hidden_size'", "expected an integer"});
  j = llama_json();
  j["hidden_size"] = 64.0;  // sloppy but exact
  EXPECT_EQ(ModelConfig::from_json(j, "c").hidden_size, 64);
  j = llama_json();
  j["tie_word_embeddings"] = "yes";
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'tie_word_embeddings'", "true/false"});
  j = llama_json();
  j["hidden_act"] = "gelu";
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'hidden_act'", "gelu"});
  j = llama_json();
  j["head_dim"] = 15;
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'head_dim'", "even"});
  expect_error([&] { ModelConfig::from_json(json::array(), "c"); }, {"not a JSON object (found array)"});
}

TEST(ModelConfigBad, Rope) {
  auto j = llama_json();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 64}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling.rope_type'", "'yarn'"});
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"high_freq_factor", 4.0}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling.low_freq_factor'", "missing"});
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0}, {"high_freq_factor", 4.0}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling.high_freq_factor'", "must exceed"});
  j["rope_scaling"] = {{"type", "linear"}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling.factor'", "missing"});
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 0}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling.factor'", "positive"});
  j["rope_scaling"] = "linear";
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_scaling'", "expected an object"});
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "longrope"}};
  expect_error([&] { ModelConfig::from_json(j, "c"); }, {"'rope_parameters.rope_type'", "longrope"});
}

TEST(ModelConfigBad, OptFeaturesTheModelLacks) {
  const struct {
    const char* key;
    json value;
  } cases[] = {{"activation_function", "gelu"}, {"enable_bias", false}, {"layer_norm_elementwise_affine", false},
               {"tie_word_embeddings", false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    auto o = opt_json();
    o[c.key] = c.value;
    expect_error([&] { ModelConfig::from_json(o, "opt.json"); }, {"opt.json", std::string("'") + c.key + "'"});
  }
}

TEST(ModelConfigBad, Files) {
  expect_error([] { ModelConfig::from_file("/nonexistent/config.json"); }, {"/nonexistent/config.json", "cannot open"});
  const std::string path = std::string(JENGA_BINARY_DIR) + "/model_config_test_bad.json";
  {
    std::ofstream f(path);
    f << "{\"model_type\": \"llama\",";
  }
  expect_error([&] { ModelConfig::from_file(path); }, {path, "not valid JSON"});
  std::remove(path.c_str());
}
