#include "jenga/core/sparsity/elimination.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace jenga::core {

void validate(const EliminationConfig& c) {
  if (c.block <= 0) throw Error(msg("elimination: block must be positive, got ", c.block));
  if (!(c.kept_fraction > 0.0 && c.kept_fraction <= 1.0)) throw Error(msg("elimination: kept_fraction must be in (0, 1], got ", c.kept_fraction));
  if (!(c.mlp_prune_ratio >= 0.0 && c.mlp_prune_ratio < 1.0)) throw Error(msg("elimination: mlp_prune_ratio must be in [0, 1), got ", c.mlp_prune_ratio));
  if (c.mlp_prune_layers != "all" && c.mlp_prune_layers != "sparse" && c.mlp_prune_layers != "none")
    throw Error(msg("elimination: mlp_prune_layers must be all, sparse or none, got '", c.mlp_prune_layers, "'"));
  if (c.first_sparse_layer < -1) throw Error(msg("elimination: first_sparse_layer must be >= -1, got ", c.first_sparse_layer));
}

bool layer_is_sparse(const EliminationConfig& c, int64_t layer, int64_t num_layers) {
  const int64_t first = c.first_sparse_layer >= 0 ? c.first_sparse_layer : std::max<int64_t>(0, num_layers / 2 - 1);
  if (layer < first) return false;
  if (c.last_layer_dense && layer == num_layers - 1) return false;
  return c.kept_fraction < 1.0;
}

double layer_mlp_prune_ratio(const EliminationConfig& c, int64_t layer, int64_t num_layers) {
  if (c.mlp_prune_layers == "none") return 0.0;
  if (c.mlp_prune_layers == "sparse" && !layer_is_sparse(c, layer, num_layers)) return 0.0;
  return c.mlp_prune_ratio;
}

torch::Tensor block_scores(const torch::Tensor& map) {
  if (map.dim() != 2 || map.size(0) != map.size(1)) throw Error(msg("block_scores: expected a square map, got ", map.sizes()));
  const int64_t nb = map.size(0);
  const auto seen_by = at::arange(nb, 0, -1, map.options().dtype(at::kFloat));  // nb - j
  return map.to(at::kFloat).tril().sum(0) / seen_by;
}

torch::Tensor kept_token_indices(const torch::Tensor& scores, double fraction, int64_t S, int64_t block) {
  const int64_t nb = (S + block - 1) / block;
  if (scores.dim() != 1 || scores.size(0) != nb)
    throw Error(msg("kept_token_indices: ", S, " tokens make ", nb, " blocks of ", block, ", got scores ", scores.sizes()));
  if (!(fraction > 0.0 && fraction <= 1.0)) throw Error(msg("kept_token_indices: fraction must be in (0, 1], got ", fraction));
  const int64_t keep = std::min(nb, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(fraction * static_cast<double>(nb) - 1e-9))));
  auto s = scores.to(at::kFloat).clone();
  s[nb - 1] = std::numeric_limits<float>::infinity();  // the most recent block always stays
  const auto blocks = std::get<0>(std::get<1>(at::topk(s, keep, 0, true, false)).sort());
  auto idx = (blocks.unsqueeze(1) * block + at::arange(block, blocks.options()).unsqueeze(0)).flatten();
  if (S % block != 0) idx = idx.masked_select(idx.lt(S));  // the ragged last block
  return idx;
}

}  // namespace jenga::core
