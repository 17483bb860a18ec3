#include "jenga/core/sparsity/token_elimination.hpp"

#include "io/posix_files.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/sparsity/block_map.hpp"

#include <ATen/ATen.h>

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
  predictors_.resize(mc.num_layers);
  kept_.assign(mc.num_layers, 1.0);
  if (selector_ != Selector::Predictor) return;
  const auto dtype = model.options().dtype;
  for (int64_t i = 0; i < mc.num_layers; ++i) {
    if (!layer_is_sparse(cfg_, i, mc.num_layers)) continue;
    if (dir.empty()) {
      predictors_[i] = std::make_unique<BlockPredictor>(default_shape(mc), model.options().device, dtype, seed + static_cast<uint64_t>(i));
      continue;
    }
    const std::string path = dir + "/layer_" + std::to_string(i) + ".safetensors";
    const SafetensorsFile f(path);
    std::map<std::string, torch::Tensor> state;
    for (const auto& n : f.names()) state[n] = f.load(n, model.options().device, dtype);
    predictors_[i] = std::make_unique<BlockPredictor>(BlockPredictor::from_state(state, f.metadata(), model.options().device, dtype));
    if (predictors_[i]->shape().heads * predictors_[i]->shape().head_dim != mc.hidden_size)
      throw Error(msg(path, ": predictor for ", predictors_[i]->shape().heads, " heads of ", predictors_[i]->shape().head_dim,
                      " does not fit hidden size ", mc.hidden_size));
  }
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

void TokenEliminator::save_predictors(const std::string& dir) const {
  posix_files::make_directories(dir);
  for (size_t i = 0; i < predictors_.size(); ++i)
    if (predictors_[i]) save_safetensors(dir + "/layer_" + std::to_string(i) + ".safetensors", predictors_[i]->state(), predictors_[i]->metadata());
}

}  // namespace jenga::core
