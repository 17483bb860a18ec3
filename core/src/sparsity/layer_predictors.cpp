#include "jenga/core/sparsity/predictor.hpp"

#include "io/posix_files.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"

namespace jenga::core {
namespace {

std::string layer_file(const std::string& dir, size_t layer) { return dir + "/layer_" + std::to_string(layer) + ".safetensors"; }

}  // namespace

LayerPredictors make_layer_predictors(const std::string& dir, int64_t num_layers, const std::function<bool(int64_t)>& sparse,
                                      const PredictorShape& shape, torch::Device device, torch::ScalarType dtype, uint64_t seed) {
  LayerPredictors out(static_cast<size_t>(num_layers));
  for (int64_t i = 0; i < num_layers; ++i) {
    if (!sparse(i)) continue;
    auto& slot = out[static_cast<size_t>(i)];
    if (dir.empty()) {
      slot = std::make_unique<BlockPredictor>(shape, device, dtype, seed + static_cast<uint64_t>(i));
      continue;
    }
    const std::string path = layer_file(dir, static_cast<size_t>(i));
    const SafetensorsFile f(path);
    std::map<std::string, torch::Tensor> state;
    for (const auto& n : f.names()) state[n] = f.load(n, device, dtype);
    slot = std::make_unique<BlockPredictor>(BlockPredictor::from_state(state, f.metadata(), device, dtype));
    const auto& s = slot->shape();
    if (s.heads * s.head_dim != shape.heads * shape.head_dim)
      throw Error(msg(path, ": predictor for ", s.heads, " heads of ", s.head_dim, " does not fit hidden size ", shape.heads * shape.head_dim));
  }
  return out;
}

void save_layer_predictors(const std::string& dir, const LayerPredictors& predictors) {
  posix_files::make_directories(dir);
  for (size_t i = 0; i < predictors.size(); ++i)
    if (predictors[i]) save_safetensors(layer_file(dir, i), predictors[i]->state(), predictors[i]->metadata());
}

}  // namespace jenga::core
