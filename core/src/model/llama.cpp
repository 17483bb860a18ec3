// Llama family (Llama-2 MHA, Llama-3 GQA): RMSNorm, RoPE, SwiGLU, optional biases, tied or untied head.
#include "model/architectures.hpp"

#include "jenga/core/error.hpp"
#include "model/activation_offload.hpp"
#include "model/autograd_ops.hpp"
#include "model/rope.hpp"
#include "sparsity/kept_rows.hpp"
#include "sparsity/mlp_prune.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace jenga::core {
namespace {

class Llama final : public CausalLM, public RecomputableLayers {
 public:
  Llama(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed) : CausalLM(cfg, opt) {
    const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, hd = cfg.head_dim;
    const int64_t q_out = cfg.num_heads * hd, kv_out = cfg.num_kv_heads * hd;
    using Init = WeightSpec::Init;
    std::vector<WeightSpec> specs = {{"model.embed_tokens.weight", {cfg.vocab_size, H}}, {"model.norm.weight", {H}, Init::Ones}};
    if (!cfg.tie_word_embeddings) specs.push_back({"lm_head.weight", {cfg.vocab_size, H}});
    for (int64_t i = 0; i < cfg.num_layers; ++i) {
      const std::string p = layer_prefix(i);
      specs.push_back({p + "input_layernorm.weight", {H}, Init::Ones});
      specs.push_back({p + "post_attention_layernorm.weight", {H}, Init::Ones});
      for (auto [n, out, in] : {std::tuple{"q_proj", q_out, H}, {"k_proj", kv_out, H}, {"v_proj", kv_out, H}, {"o_proj", H, q_out}}) {
        specs.push_back({p + "self_attn." + n + ".weight", {out, in}});
        if (cfg.attention_bias) specs.push_back({p + "self_attn." + n + ".bias", {out}, Init::Zeros});
      }
      for (auto [n, out, in] : {std::tuple{"gate_proj", I, H}, {"up_proj", I, H}, {"down_proj", H, I}}) {
        specs.push_back({p + "mlp." + n + ".weight", {out, in}});
        if (cfg.mlp_bias) specs.push_back({p + "mlp." + n + ".bias", {out}, Init::Zeros});
      }
    }
    materialize(specs, ckpt, seed);
    inv_freq_ = rope_inv_freq(cfg, opt.rope_linear_factor).to(opt.device);
    for (int64_t i = 0; i < cfg.num_layers; ++i) layers_.push_back(bind_layer(i));
  }

  torch::Tensor forward_hidden(const torch::Tensor& ids, const LayerHooks& hooks) override {
    segment_ = packed_segment(ids, hooks, "Llama");
    const int64_t S = ids.numel();
    rope_ = rope_tables(inv_freq_, begin_forward(S, segment_, hooks, 0, "Llama"), options_.dtype);
    auto x = at::embedding(w("model.embed_tokens.weight"), ids.reshape({S}).to(options_.device));
    const bool ckpt = (options_.gradient_checkpointing || options_.offload_activations) && at::GradMode::is_enabled();
    // Checkpointed layers need a grad-requiring input to be part of the graph at all.
    if (ckpt) x.requires_grad_(true);
    mlp_prune_.assign(config_.num_layers, 0.0);
    groups_.assign(config_.num_layers, 1);
    token_block_ = hooks.token_block;
    for (int64_t i = 0; i < config_.num_layers; ++i) {
      if (hooks.mlp_prune_ratio) mlp_prune_[i] = hooks.mlp_prune_ratio(i);
      if (hooks.attention_groups) groups_[i] = hooks.attention_groups(i);
      const auto kept = hooks.select_tokens ? hooks.select_tokens(i, x) : at::Tensor();
      x = ckpt ? checkpointed_layer(this, i, x, kept, options_.offload_activations ? &offload_ : nullptr) : run_layer(i, x, kept);
      mark_layer(hooks, i, x);
    }
    return rms_norm(x, w("model.norm.weight"), config_.rms_norm_eps);
  }

  torch::Tensor lm_head_weight() const override {
    return config_.tie_word_embeddings ? w("model.embed_tokens.weight") : w("lm_head.weight");
  }

  torch::Tensor run_layer(int64_t i, const torch::Tensor& x, const torch::Tensor& kept) override {
    const Layer& L = layers_[i];
    // Eliminated tokens are never normalised or projected: gather first (RMSNorm is per token),
    // then add the kept tokens' attention output back into the residual stream.
    const KeptRows rows = kept.defined() ? kept_rows(kept, token_block_, x.size(0)) : KeptRows{};
    const at::Tensor xs = kept.defined() ? gather_kept_rows(x, rows) : x;
    const int64_t groups = i < static_cast<int64_t>(groups_.size()) ? groups_[i] : 1;
    const auto attn = attention(i, L, rms_norm(xs, L.ln1, config_.rms_norm_eps), kept, groups);
    const auto h = kept.defined() ? add_at_kept_rows(x, rows, attn) : x + attn;
    const auto hn = rms_norm(h, L.ln2, config_.rms_norm_eps);
    const double ratio = i < static_cast<int64_t>(mlp_prune_.size()) ? mlp_prune_[i] : 0.0;
    if (ratio > 0.0) {
      if (L.bgate.defined() || L.bup.defined() || L.bdown.defined() || lora_for(L.path + "mlp.gate_proj").defined() ||
          lora_for(L.path + "mlp.up_proj").defined() || lora_for(L.path + "mlp.down_proj").defined())
        throw Error(msg("MLP channel pruning needs a frozen MLP without biases or adapters (layer ", i, ")"));
      return h + pruned_swiglu_mlp(hn, L.gate, L.up, L.down, ratio);
    }
    const auto g = lora_linear(hn, L.gate, L.bgate, lora_for(L.path + "mlp.gate_proj"), lora_cfg_.scale());
    const auto u = lora_linear(hn, L.up, L.bup, lora_for(L.path + "mlp.up_proj"), lora_cfg_.scale());
    return h + lora_linear(swiglu(g, u), L.down, L.bdown, lora_for(L.path + "mlp.down_proj"), lora_cfg_.scale());
  }

  std::pair<torch::Tensor, torch::Tensor> attention_qk(int64_t i, const torch::Tensor& x) override {
    if (i < 0 || i >= config_.num_layers) throw Error(msg("attention_qk: no layer ", i));
    at::NoGradGuard no_grad;
    const Layer& L = layers_[i];
    const auto xn = rms_norm(x, L.ln1, config_.rms_norm_eps);
    const int64_t S = x.size(0), hd = config_.head_dim;
    const double s = lora_cfg_.scale();
    return {lora_linear(xn, L.q, L.bq, lora_for(L.path + "self_attn.q_proj"), s).view({S, config_.num_heads, hd}),
            lora_linear(xn, L.k, L.bk, lora_for(L.path + "self_attn.k_proj"), s).view({S, config_.num_kv_heads, hd})};
  }

 protected:
  std::vector<std::pair<std::string, std::string>> lora_sites() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (int64_t i = 0; i < config_.num_layers; ++i) {
      const std::string p = layer_prefix(i);
      for (auto [m, s] : {std::pair{"self_attn.q_proj", "q"}, {"self_attn.k_proj", "k"}, {"self_attn.v_proj", "v"},
                          {"self_attn.o_proj", "o"}, {"mlp.gate_proj", "gate"}, {"mlp.up_proj", "up"}, {"mlp.down_proj", "down"}})
        out.emplace_back(p + m, s);
    }
    return out;
  }

 private:
  struct Layer {
    std::string path;
    at::Tensor ln1, ln2, q, k, v, o, bq, bk, bv, bo, gate, up, down, bgate, bup, bdown;
  };

  static std::string layer_prefix(int64_t i) { return "model.layers." + std::to_string(i) + "."; }

  Layer bind_layer(int64_t i) const {
    const std::string p = layer_prefix(i), a = p + "self_attn.", m = p + "mlp.";
    return Layer{p, w(p + "input_layernorm.weight"), w(p + "post_attention_layernorm.weight"),
                 w(a + "q_proj.weight"), w(a + "k_proj.weight"), w(a + "v_proj.weight"), w(a + "o_proj.weight"),
                 w_or_undefined(a + "q_proj.bias"), w_or_undefined(a + "k_proj.bias"), w_or_undefined(a + "v_proj.bias"),
                 w_or_undefined(a + "o_proj.bias"), w(m + "gate_proj.weight"), w(m + "up_proj.weight"),
                 w(m + "down_proj.weight"), w_or_undefined(m + "gate_proj.bias"), w_or_undefined(m + "up_proj.bias"),
                 w_or_undefined(m + "down_proj.bias")};
  }

  // Layer i's self-attention among the (already gathered) kept tokens xs, RoPE'd at their original
  // positions (causal, or as attend() decides); returns their update [kept, H].
  at::Tensor attention(int64_t i, const Layer& L, const at::Tensor& xs, const at::Tensor& kept, int64_t groups) {
    const int64_t nh = config_.num_heads, nkv = config_.num_kv_heads, hd = config_.head_dim;
    const double s = lora_cfg_.scale();
    const RopeTables rope = kept.defined() ? RopeTables{rope_.cos.index_select(0, kept), rope_.sin.index_select(0, kept)} : rope_;
    const int64_t S = xs.size(0);
    auto q = lora_linear(xs, L.q, L.bq, lora_for(L.path + "self_attn.q_proj"), s).view({S, nh, hd});
    auto k = lora_linear(xs, L.k, L.bk, lora_for(L.path + "self_attn.k_proj"), s).view({S, nkv, hd});
    auto v = lora_linear(xs, L.v, L.bv, lora_for(L.path + "self_attn.v_proj"), s).view({S, nkv, hd});
    q = apply_rope(q, rope);
    k = apply_rope(k, rope);
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    const auto o = attend(i, q, k, v, scale, groups, segment_).reshape({S, nh * hd});
    return lora_linear(o, L.o, L.bo, lora_for(L.path + "self_attn.o_proj"), s);
  }

  std::vector<Layer> layers_;
  std::vector<double> mlp_prune_;  // per layer, set by forward_hidden from the hooks
  std::vector<int64_t> groups_;    // attention groups per layer, likewise
  int64_t token_block_ = 0;        // hooks.token_block of the current forward
  int64_t segment_ = 0;            // tokens per sequence of a packed batch; 0 for one sequence
  ActivationOffload offload_;      // layer inputs in host memory (options_.offload_activations)
  at::Tensor inv_freq_;
  RopeTables rope_;  // positions of the current forward's tokens (begin_forward)
};

}  // namespace

std::unique_ptr<CausalLM> make_llama(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed) {
  return std::make_unique<Llama>(cfg, opt, ckpt, seed);
}

}  // namespace jenga::core
