// Jenga's token elimination policy: which layers are sparse, how blocks are scored from a block
// attention map, and which tokens a sparse layer keeps (whole 64-token blocks, in order).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace jenga::core {

struct EliminationConfig {
  int64_t block = 64;
  double kept_fraction = 0.4;       // of a sparse layer's blocks (rounded up, at least one)
  int64_t first_sparse_layer = -1;  // layers below stay dense; -1: num_layers / 2 - 1 (15 of 32)
  bool last_layer_dense = true;     // the layer feeding the LM head sees every token
  double mlp_prune_ratio = 0.8;     // MLP channel pruning for backward; 0 = exact
  std::string mlp_prune_layers = "all";  // all | sparse | none
};

// Errors for out-of-range settings.
void validate(const EliminationConfig& c);
bool layer_is_sparse(const EliminationConfig& c, int64_t layer, int64_t num_layers);
double layer_mlp_prune_ratio(const EliminationConfig& c, int64_t layer, int64_t num_layers);

// A block's importance: the attention it receives, i.e. the column sum of the block map, averaged
// over the query blocks that can see it (causal: nb - j of them) so early blocks are not favoured
// merely for being visible to more queries. map: [nb, nb] -> scores [nb] (fp32).
torch::Tensor block_scores(const torch::Tensor& map);

// Token indices (int64, ascending) of the top ceil(fraction * nb) blocks by score; the last block
// (the most recent tokens) is always kept. S tokens in blocks of `block` (the last may be short).
torch::Tensor kept_token_indices(const torch::Tensor& scores, double fraction, int64_t S, int64_t block);

}  // namespace jenga::core
