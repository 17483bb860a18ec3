// Trains Jenga's block predictors against the frozen model's exact block maps: per sparse layer,
// SmoothL1 between the predicted map and the exact map (scaled down by target_scale) over causal
// block pairs, summed over layers; AdamW; dead neurons pruned every prune_every steps.
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/sparsity/elimination.hpp"
#include "jenga/core/sparsity/predictor.hpp"

#include <memory>
#include <string>
#include <vector>

namespace jenga::core {

struct PredictorTrainConfig {
  double lr = 2e-5, beta1 = 0.9, beta2 = 0.95, weight_decay = 0.0;
  // Exact maps are divided by this before the loss; 0 = the artifact's choice (Llama 1024, OPT 4096).
  double target_scale = 0.0;
  // Divide each exact map by its own largest causal entry instead (scale-free targets: only the
  // ranking of blocks matters for elimination, and map magnitudes differ a lot between models).
  bool normalize_targets = false;
  int64_t prune_every = 100;      // 0 = never
  double prune_zero_ratio = 0.8;  // a neuron dead in at least this share of activations is removed
};

struct PredictorStepResult {
  double loss = 0;       // summed over sparse layers
  double recall = 0;     // mean over sparse layers: share of the exact top blocks the predictor also keeps
  int64_t params = 0;    // predictor parameters after this step
  int64_t pruned = 0;    // neurons removed at this step (0 unless it was a pruning step)
};

class PredictorTrainer {
 public:
  // Predictors in fp32, from `init_dir` (layer_<i>.safetensors) or seeded random init of the
  // default widths; `ec` says which layers are sparse and the kept fraction the recall uses.
  PredictorTrainer(CausalLM& model, EliminationConfig ec, PredictorTrainConfig cfg, const std::string& init_dir, uint64_t seed);
  ~PredictorTrainer();

  // One optimisation step on one sequence ids [S] (S at least two blocks).
  PredictorStepResult step(const torch::Tensor& ids);
  // Same layout as TokenEliminator reads: <dir>/layer_<i>.safetensors with widths as metadata.
  void save(const std::string& dir) const;
  int64_t num_params() const;
  double target_scale() const { return scale_; }

 private:
  void rebuild_optimizer();
  CausalLM& model_;
  EliminationConfig ec_;
  PredictorTrainConfig cfg_;
  double scale_;
  LayerPredictors predictors_;  // null for dense layers
  struct Optimizer;
  std::unique_ptr<Optimizer> opt_;
  int64_t steps_ = 0;
};

}  // namespace jenga::core
