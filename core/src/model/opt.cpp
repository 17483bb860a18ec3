// OPT: learned positions (offset 2), LayerNorm (pre- or post-norm), ReLU MLP, biases everywhere,
// optional project_in/out when word_embed_proj_dim != hidden (OPT-350m), head tied to embeddings.
#include "model/architectures.hpp"

#include "jenga/core/error.hpp"
#include "model/activation_offload.hpp"
#include "model/autograd_ops.hpp"
#include "sparsity/kept_rows.hpp"
#include "sparsity/mlp_prune.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace jenga::core {
namespace {

constexpr int64_t kPositionOffset = 2;  // OPTLearnedPositionalEmbedding

class Opt final : public CausalLM, public RecomputableLayers {
 public:
  Opt(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed) : CausalLM(cfg, opt) {
    const int64_t H = cfg.hidden_size, F = cfg.intermediate_size, E = embed_dim();
    using Init = WeightSpec::Init;
    std::vector<WeightSpec> specs = {{"model.decoder.embed_tokens.weight", {cfg.vocab_size, E}},
                                     {"model.decoder.embed_positions.weight", {cfg.max_position_embeddings + kPositionOffset, H}}};
    if (E != H) {
      specs.push_back({"model.decoder.project_in.weight", {H, E}});
      specs.push_back({"model.decoder.project_out.weight", {E, H}});
    }
    if (cfg.opt_final_layer_norm) {
      specs.push_back({"model.decoder.final_layer_norm.weight", {H}, Init::Ones});
      specs.push_back({"model.decoder.final_layer_norm.bias", {H}, Init::Zeros});
    }
    for (int64_t i = 0; i < cfg.num_layers; ++i) {
      const std::string p = layer_prefix(i);
      for (auto n : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"}) {
        specs.push_back({p + n + ".weight", {H, H}});
        specs.push_back({p + n + ".bias", {H}, Init::Zeros});
      }
      specs.push_back({p + "fc1.weight", {F, H}});
      specs.push_back({p + "fc1.bias", {F}, Init::Zeros});
      specs.push_back({p + "fc2.weight", {H, F}});
      specs.push_back({p + "fc2.bias", {H}, Init::Zeros});
      for (auto n : {"self_attn_layer_norm", "final_layer_norm"}) {
        specs.push_back({p + n + ".weight", {H}, Init::Ones});
        specs.push_back({p + n + ".bias", {H}, Init::Zeros});
      }
    }
    materialize(specs, ckpt, seed);
  }

  torch::Tensor forward_hidden(const torch::Tensor& ids, const LayerHooks& hooks) override {
    segment_ = packed_segment(ids, hooks, "OPT");
    const int64_t S = ids.numel();
    const auto positions = begin_forward(S, segment_, hooks, config_.max_position_embeddings, "OPT");
    auto x = at::embedding(w("model.decoder.embed_tokens.weight"), ids.reshape({S}).to(options_.device));
    if (embed_dim() != config_.hidden_size) x = frozen_linear(x, w("model.decoder.project_in.weight"), {});
    x = x + at::embedding(w("model.decoder.embed_positions.weight"), positions + kPositionOffset);
    const bool ckpt = (options_.gradient_checkpointing || options_.offload_activations) && at::GradMode::is_enabled();
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
    if (config_.opt_final_layer_norm)
      x = at::layer_norm(x, {config_.hidden_size}, w("model.decoder.final_layer_norm.weight"),
                         w("model.decoder.final_layer_norm.bias"), config_.layer_norm_eps);
    if (embed_dim() != config_.hidden_size) x = frozen_linear(x, w("model.decoder.project_out.weight"), {});
    return x;
  }

  torch::Tensor lm_head_weight() const override { return w("model.decoder.embed_tokens.weight"); }

  torch::Tensor run_layer(int64_t i, const torch::Tensor& x, const torch::Tensor& kept) override {
    const std::string p = layer_prefix(i);
    const double eps = config_.layer_norm_eps;
    auto ln = [&](const at::Tensor& t, const std::string& n) {
      return at::layer_norm(t, {config_.hidden_size}, w(p + n + ".weight"), w(p + n + ".bias"), eps);
    };
    const double ratio = i < static_cast<int64_t>(mlp_prune_.size()) ? mlp_prune_[i] : 0.0;
    const int64_t groups = i < static_cast<int64_t>(groups_.size()) ? groups_[i] : 1;
    auto mlp = [&](const at::Tensor& t) {
      if (ratio > 0.0) {
        if (lora_for(p + "fc1").defined() || lora_for(p + "fc2").defined())
          throw Error(msg("MLP channel pruning needs a frozen MLP without adapters (layer ", i, ")"));
        return pruned_relu_mlp(t, w(p + "fc1.weight"), w(p + "fc1.bias"), w(p + "fc2.weight"), w(p + "fc2.bias"), ratio);
      }
      const double s = lora_cfg_.scale();
      const auto h = at::relu(lora_linear(t, w(p + "fc1.weight"), w(p + "fc1.bias"), lora_for(p + "fc1"), s));
      return lora_linear(h, w(p + "fc2.weight"), w(p + "fc2.bias"), lora_for(p + "fc2"), s);
    };
    // Eliminated tokens are gathered out before any per-token work and get no attention update.
    const KeptRows rows = kept.defined() ? kept_rows(kept, token_block_, x.size(0)) : KeptRows{};
    const at::Tensor xs = kept.defined() ? gather_kept_rows(x, rows) : x;
    const auto add = [&](const at::Tensor& upd) { return kept.defined() ? add_at_kept_rows(x, rows, upd) : x + upd; };
    if (config_.do_layer_norm_before) {
      const auto h = add(attention(i, p, ln(xs, "self_attn_layer_norm"), groups));
      return h + mlp(ln(h, "final_layer_norm"));
    }
    const auto h = ln(add(attention(i, p, xs, groups)), "self_attn_layer_norm");
    return ln(h + mlp(h), "final_layer_norm");
  }

  std::pair<torch::Tensor, torch::Tensor> attention_qk(int64_t i, const torch::Tensor& x) override {
    if (i < 0 || i >= config_.num_layers) throw Error(msg("attention_qk: no layer ", i));
    at::NoGradGuard no_grad;
    const std::string p = layer_prefix(i), a = p + "self_attn.";
    const auto xn = config_.do_layer_norm_before
                        ? at::layer_norm(x, {config_.hidden_size}, w(p + "self_attn_layer_norm.weight"),
                                         w(p + "self_attn_layer_norm.bias"), config_.layer_norm_eps)
                        : x;
    const int64_t S = x.size(0);
    const double s = lora_cfg_.scale();
    auto proj = [&](const char* n) {
      return lora_linear(xn, w(a + n + ".weight"), w(a + n + ".bias"), lora_for(a + n), s).view({S, config_.num_heads, config_.head_dim});
    };
    return {proj("q_proj"), proj("k_proj")};
  }

 protected:
  std::vector<std::pair<std::string, std::string>> lora_sites() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (int64_t i = 0; i < config_.num_layers; ++i) {
      const std::string p = layer_prefix(i);
      for (auto [m, s] : {std::pair{"self_attn.q_proj", "q"}, {"self_attn.k_proj", "k"}, {"self_attn.v_proj", "v"},
                          {"self_attn.out_proj", "o"}, {"fc1", "fc1"}, {"fc2", "fc2"}})
        out.emplace_back(p + m, s);
    }
    return out;
  }

 private:
  int64_t embed_dim() const { return config_.word_embed_proj_dim > 0 ? config_.word_embed_proj_dim : config_.hidden_size; }
  std::vector<double> mlp_prune_;  // per layer, set by forward_hidden from the hooks
  std::vector<int64_t> groups_;    // attention groups per layer, likewise
  int64_t token_block_ = 0;        // hooks.token_block of the current forward
  int64_t segment_ = 0;            // tokens per sequence of a packed batch; 0 for one sequence
  ActivationOffload offload_;      // layer inputs in host memory (options_.offload_activations)
  static std::string layer_prefix(int64_t i) { return "model.decoder.layers." + std::to_string(i) + "."; }

  // Layer i's self-attention among the (already gathered) tokens xs (causal, or as attend()
  // decides); returns their update.
  at::Tensor attention(int64_t i, const std::string& p, const at::Tensor& xs, int64_t groups) {
    const int64_t nh = config_.num_heads, hd = config_.head_dim;
    const double s = lora_cfg_.scale();
    const int64_t S = xs.size(0);
    const std::string a = p + "self_attn.";
    auto proj = [&](const char* n) {
      return lora_linear(xs, w(a + n + ".weight"), w(a + n + ".bias"), lora_for(a + n), s).view({S, nh, hd});
    };
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    const auto o = attend(i, proj("q_proj"), proj("k_proj"), proj("v_proj"), scale, groups, segment_).reshape({S, nh * hd});
    return lora_linear(o, w(a + "out_proj.weight"), w(a + "out_proj.bias"), lora_for(a + "out_proj"), s);
  }
};

}  // namespace

std::unique_ptr<CausalLM> make_opt(const ModelConfig& cfg, const ModelOptions& opt, const std::string& ckpt, uint64_t seed) {
  return std::make_unique<Opt>(cfg, opt, ckpt, seed);
}

}  // namespace jenga::core
