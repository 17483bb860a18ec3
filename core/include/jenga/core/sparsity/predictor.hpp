// Jenga's per-layer block-map predictor: the layer input, cut per head into 64-token blocks
// (64 x head_dim features each), goes through two 3-layer ReLU MLPs without bias (a query and a
// key branch, weights shared across heads); the predicted map is the per-head product of the two
// summed over heads. Widths shrink by structured pruning of dead neurons ("elastic size").
#pragma once

#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace jenga::core {

struct PredictorShape {
  int64_t heads = 32, head_dim = 128, block = 64;
  // Output widths of the first two layers of each branch; the last maps to head_dim.
  int64_t q1 = 256, q2 = 4096, k1 = 256, k2 = 4096;
};

class BlockPredictor {
 public:
  BlockPredictor(const PredictorShape& shape, torch::Device device, torch::ScalarType dtype, uint64_t seed);
  const PredictorShape& shape() const { return shape_; }

  // hidden [S, heads * head_dim] -> features [heads, nb, block * head_dim] (last block zero-padded).
  torch::Tensor features(const torch::Tensor& hidden) const;
  // Predicted block map [nb, nb] (fp32); differentiable w.r.t. parameters() when grad is on.
  // With `track`, counts each hidden neuron's zero (dead) activations for prune_dead().
  torch::Tensor forward(const torch::Tensor& hidden, bool track = false);
  std::vector<torch::Tensor> parameters() const;
  int64_t num_params() const;

  // Removes neurons of the first two layers of each branch whose ReLU output was zero in at least
  // `zero_ratio` of the tracked activations, then resets the counts. Returns neurons removed.
  int64_t prune_dead(double zero_ratio);

  // name -> tensor ("q.0", "q.1", "q.2", "k.0", ...), and the widths as metadata.
  std::map<std::string, torch::Tensor> state() const;
  std::map<std::string, std::string> metadata() const;
  static BlockPredictor from_state(const std::map<std::string, torch::Tensor>& state,
                                   const std::map<std::string, std::string>& metadata, torch::Device device,
                                   torch::ScalarType dtype);

 private:
  BlockPredictor() = default;
  torch::Tensor branch(int which, const torch::Tensor& f, bool track);
  PredictorShape shape_;
  torch::Tensor w_[2][3];      // [branch q/k][layer] : [out, in]
  torch::Tensor dead_[2][2];   // zero-activation counts of layers 0 and 1
  int64_t tracked_ = 0;        // activations counted per neuron since the last prune
};

// One predictor per layer of a model, null for its dense layers; on disk <dir>/layer_<i>.safetensors
// with the widths as metadata.
using LayerPredictors = std::vector<std::unique_ptr<BlockPredictor>>;

// For each of num_layers layers where sparse(i): loaded from `dir`, or seeded random init of
// `shape` (seed + i) when dir is empty. Error naming the file if one is missing, malformed or
// built for another heads x head_dim than `shape`'s.
LayerPredictors make_layer_predictors(const std::string& dir, int64_t num_layers, const std::function<bool(int64_t)>& sparse,
                                      const PredictorShape& shape, torch::Device device, torch::ScalarType dtype, uint64_t seed);
void save_layer_predictors(const std::string& dir, const LayerPredictors& predictors);

}  // namespace jenga::core
