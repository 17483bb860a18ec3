#include "jenga/core/sparsity/token_elimination.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/sparsity/block_map.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>

namespace jenga::core {

PredictorShape TokenEliminator::default_shape(const ModelConfig& c) {
  PredictorShape s;
  s.heads = c.num_heads;
  s.head_dim = c.head_dim;
  s.block = 64;
  s.q1 = s.k1 = 256;
  s.q2 = s.k2 = 32 * c.head_dim;
  return s;
}

TokenEliminator::TokenEliminator(CausalLM& model, EliminationConfig cfg, Selector selector, const std::string& dir, uint64_t seed)
    : model_(model), cfg_(std::move(cfg)), selector_(selector) {
  validate(cfg_);
  if (cfg_.block != 64 && selector_ == Selector::Predictor) throw Error(msg("elimination: predictors work on 64-token blocks, got ", cfg_.block));
  const auto& mc = model.config();
  kept_.assign(mc.num_layers, 1.0);
  if (selector_ != Selector::Predictor) {
    predictors_.resize(mc.num_layers);
    return;
  }
  predictors_ = make_layer_predictors(dir, mc.num_layers, [&](int64_t i) { return layer_is_sparse(cfg_, i, mc.num_layers); },
                                      default_shape(mc), model.options().device, model.options().dtype, seed);
}

torch::Tensor TokenEliminator::select(int64_t layer, const torch::Tensor& hidden) {
  if (layer == 0) selection_ms_ = 0;
  if (!timing_ || !layer_is_sparse(cfg_, layer, model_.config().num_layers)) return select_blocks(layer, hidden);
  synchronize(hidden.device());
  const auto t0 = std::chrono::steady_clock::now();
  auto kept = select_blocks(layer, hidden);
  synchronize(hidden.device());
  selection_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return kept;
}

torch::Tensor TokenEliminator::select_blocks(int64_t layer, const torch::Tensor& hidden) {
  const int64_t L = model_.config().num_layers, S = hidden.size(0);
  if (!layer_is_sparse(cfg_, layer, L)) {
    kept_[layer] = 1.0;
    return {};
  }
  at::NoGradGuard ng;
  at::Tensor map;
  if (selector_ == Selector::Predictor) {
    map = predictors_[layer]->forward(hidden.detach());
  } else {
    const auto [q, k] = model_.attention_qk(layer, hidden.detach());
    map = exact_block_map(q, k, cfg_.block);
  }
  auto kept = kept_token_indices(block_scores(map), cfg_.kept_fraction, S, cfg_.block);
  kept_[layer] = static_cast<double>(kept.size(0)) / static_cast<double>(S);
  return kept;
}

LayerHooks TokenEliminator::hooks() {
  LayerHooks h;
  h.select_tokens = [this](int64_t layer, const torch::Tensor& x) { return select(layer, x); };
  h.token_block = cfg_.block;
  const int64_t L = model_.config().num_layers;
  h.mlp_prune_ratio = [this, L](int64_t layer) { return layer_mlp_prune_ratio(cfg_, layer, L); };
  return h;
}

double TokenEliminator::last_kept_fraction() const {
  double s = 0;
  for (double k : kept_) s += k;
  return kept_.empty() ? 1.0 : s / static_cast<double>(kept_.size());
}

int64_t TokenEliminator::predictor_params() const {
  int64_t n = 0;
  for (const auto& p : predictors_)
    if (p) n += p->num_params();
  return n;
}

int64_t TokenEliminator::predictor_bytes() const {
  int64_t n = 0;
  for (const auto& p : predictors_)
    if (p)
      for (const auto& w : p->parameters()) n += w.numel() * static_cast<int64_t>(w.element_size());
  return n;
}

void TokenEliminator::save_predictors(const std::string& dir) const { save_layer_predictors(dir, predictors_); }

}  // namespace jenga::core
