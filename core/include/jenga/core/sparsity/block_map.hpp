// The exact block-level attention map Jenga's predictors learn: for query block i and key block
// j <= i, the sum over query heads of the max of ReLU(q . k) over the block's causal entries
// (pre-RoPE q/k; GQA key heads shared by their query group). fp32 [nb, nb], zero above the diagonal.
#pragma once

#include <torch/types.h>

namespace jenga::core {

// q [S, Hq, D], k [S, Hkv, D] (Hq a multiple of Hkv), any float dtype. CUDA tensors use the
// fused kernel (never materialising S x S, block must be 64); elsewhere the reference.
torch::Tensor exact_block_map(const torch::Tensor& q, const torch::Tensor& k, int64_t block = 64);

// The composite reference: per head scores in full, then block max-pooling. Small S only (tests).
torch::Tensor exact_block_map_reference(const torch::Tensor& q, const torch::Tensor& k, int64_t block = 64);

}  // namespace jenga::core
