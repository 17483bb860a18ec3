#include "jenga/core/sparsity/predictor_training.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/sparsity/block_map.hpp"
#include "jenga/core/sparsity/token_elimination.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/optim/adamw.h>

namespace jenga::core {

struct PredictorTrainer::Optimizer {
  std::unique_ptr<torch::optim::AdamW> adamw;
};

PredictorTrainer::PredictorTrainer(CausalLM& model, EliminationConfig ec, PredictorTrainConfig cfg, const std::string& dir, uint64_t seed)
    : model_(model), ec_(std::move(ec)), cfg_(cfg), opt_(std::make_unique<Optimizer>()) {
  validate(ec_);
  if (ec_.block != 64) throw Error(msg("predictor-train: predictors work on 64-token blocks, got ", ec_.block));
  if (!(cfg_.lr > 0)) throw Error(msg("predictor-train: lr must be positive, got ", cfg_.lr));
  if (cfg_.prune_every < 0) throw Error(msg("predictor-train: prune_every must be >= 0, got ", cfg_.prune_every));
  const auto& mc = model.config();
  scale_ = cfg_.target_scale > 0 ? cfg_.target_scale : (mc.family == Family::Opt ? 4096.0 : 1024.0);
  predictors_ = make_layer_predictors(dir, mc.num_layers, [&](int64_t i) { return layer_is_sparse(ec_, i, mc.num_layers); },
                                      TokenEliminator::default_shape(mc), model.options().device, at::kFloat, seed);
  if (num_params() == 0) throw Error("predictor-train: the elimination policy leaves no sparse layer to train a predictor for");
  rebuild_optimizer();
}

PredictorTrainer::~PredictorTrainer() = default;

void PredictorTrainer::rebuild_optimizer() {
  // Pruning replaces the weight tensors (and their shapes), so AdamW starts afresh on them.
  std::vector<torch::Tensor> params;
  for (const auto& p : predictors_)
    if (p)
      for (const auto& w : p->parameters()) params.push_back(w);
  auto o = torch::optim::AdamWOptions(cfg_.lr).betas({cfg_.beta1, cfg_.beta2}).weight_decay(cfg_.weight_decay);
  opt_->adamw = std::make_unique<torch::optim::AdamW>(params, o);
}

int64_t PredictorTrainer::num_params() const {
  int64_t n = 0;
  for (const auto& p : predictors_)
    if (p) n += p->num_params();
  return n;
}

PredictorStepResult PredictorTrainer::step(const torch::Tensor& ids) {
  const int64_t S = ids.size(0), nb = (S + ec_.block - 1) / ec_.block;
  if (ids.dim() != 1 || nb < 2) throw Error(msg("predictor-train: need ids [S] spanning two blocks or more, got ", ids.sizes()));
  opt_->adamw->zero_grad();
  PredictorStepResult r;
  int64_t layers = 0;
  const auto causal = at::ones({nb, nb}, at::TensorOptions().dtype(at::kBool).device(model_.options().device)).tril();
  LayerHooks hooks;
  hooks.select_tokens = [&](int64_t layer, const torch::Tensor& x) -> torch::Tensor {
    BlockPredictor* p = predictors_[layer].get();
    if (!p) return {};
    at::Tensor target;
    {
      const auto [q, k] = model_.attention_qk(layer, x);
      target = exact_block_map(q, k, ec_.block);
    }
    const auto scaled = cfg_.normalize_targets ? target / target.masked_select(causal).max().clamp_min(1e-12) : target / scale_;
    at::Tensor pred;
    {
      at::AutoGradMode grad(true);
      pred = p->forward(x.detach(), /*track=*/true);
      const auto loss = at::smooth_l1_loss(pred.masked_select(causal), scaled.masked_select(causal), at::Reduction::Mean, 1.0);
      loss.backward();
      r.loss += loss.item<double>();
    }
    // Recall at the policy's kept fraction: blocks the exact map would keep that the predictor keeps too.
    const auto want = kept_token_indices(block_scores(target), ec_.kept_fraction, S, ec_.block);
    const auto got = kept_token_indices(block_scores(pred.detach()), ec_.kept_fraction, S, ec_.block);
    r.recall += at::isin(want, got).to(at::kDouble).mean().item<double>();
    ++layers;
    return {};
  };
  {
    at::NoGradGuard ng;
    model_.forward_hidden(ids, hooks);
  }
  opt_->adamw->step();
  ++steps_;
  if (cfg_.prune_every > 0 && steps_ % cfg_.prune_every == 0) {
    for (auto& p : predictors_)
      if (p) r.pruned += p->prune_dead(cfg_.prune_zero_ratio);
    if (r.pruned > 0) rebuild_optimizer();
  }
  r.recall /= static_cast<double>(std::max<int64_t>(layers, 1));
  r.params = num_params();
  return r;
}

void PredictorTrainer::save(const std::string& dir) const { save_layer_predictors(dir, predictors_); }

}  // namespace jenga::core
