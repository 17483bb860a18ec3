// Jenga's token elimination as layer hooks for any CausalLM: per sparse layer, a block map (the
// layer's predictor, or the exact map as an oracle) scores 64-token blocks and the top fraction is
// kept; MLP channel pruning for backward per the policy. Reports what it kept.
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/sparsity/elimination.hpp"
#include "jenga/core/sparsity/predictor.hpp"

#include <memory>
#include <string>
#include <vector>

namespace jenga::core {

class TokenEliminator {
 public:
  enum class Selector { Predictor, Exact };
  // Predictors: loaded from `predictor_dir` (layer_<i>.safetensors, see save_predictors) or, when
  // empty, seeded random init of the default widths (systems measurements: the cost is the same,
  // the choice of blocks is not meaningful).
  TokenEliminator(CausalLM& model, EliminationConfig cfg, Selector selector, const std::string& predictor_dir, uint64_t seed);

  LayerHooks hooks();
  // Fraction of (layer, token) pairs that took part in attention during the last forward.
  double last_kept_fraction() const;
  int64_t predictor_params() const;
  // Predictor weights in bytes (their dtype is the model's).
  int64_t predictor_bytes() const;
  // With timing on, each selection is bracketed by device synchronisations and its wall time
  // summed per forward (the predictors' time overhead); off by default (syncs cost overlap).
  void set_timing(bool on) { timing_ = on; }
  double last_selection_ms() const { return selection_ms_; }
  const EliminationConfig& config() const { return cfg_; }
  BlockPredictor* predictor(int64_t layer) { return predictors_.at(layer).get(); }

  static PredictorShape default_shape(const ModelConfig& c);
  void save_predictors(const std::string& dir) const;

 private:
  torch::Tensor select(int64_t layer, const torch::Tensor& hidden);
  torch::Tensor select_blocks(int64_t layer, const torch::Tensor& hidden);
  CausalLM& model_;
  EliminationConfig cfg_;
  Selector selector_;
  LayerPredictors predictors_;  // null for dense layers
  std::vector<double> kept_;                                  // per layer, last forward
  bool timing_ = false;
  double selection_ms_ = 0;                                   // last forward, when timing
};

}  // namespace jenga::core
