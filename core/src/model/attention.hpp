// Causal self-attention over a token-major sequence, dense or LongLoRA's shifted sparse
// attention (S²-attn), shared by every architecture.
#pragma once

#include <torch/types.h>

namespace jenga::core {

// q [S, Hq, D], k/v [S, Hkv, D] (Hq a multiple of Hkv) -> [S, Hq, D].
// groups <= 1: dense causal attention. groups = G > 1: the sequence is cut into G groups of
// g = max(2, ceil(S/G)) tokens and each token attends causally within its group; in the second half of the
// heads (query and key/value alike) the group borders are shifted by g/2 so its groups straddle the
// first half's borders (LongLoRA's S²-attn, Chen et al. 2024). Unlike LongLoRA's roll, the first
// g/2 tokens form their own group instead of wrapping round to the end, so no token sees a later
// one. The last group is padded at its end, which the causal mask hides. Shifting needs an even Hkv.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               int64_t groups = 1);

// Several independent sequences of `segment` tokens each, packed one after another (a batch):
// q [S, Hq, D], k/v [S, Hkv, D] with S a multiple of `segment`; each token attends causally within
// its own sequence only.
torch::Tensor packed_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      double scale, int64_t segment);

}  // namespace jenga::core
