// Exact block-level attention map: out[i][j] = sum over query heads h of
//   max over (r in query block i, c in key block j, c <= r) of ReLU(q[r, h] . k[c, h / group]),
// for j <= i (0 above the diagonal). Blocks of `block` tokens; the last may be ragged. q [S, Hq, D]
// and k [S, Hkv, D] are row-major with the given row strides (elements); out is fp32 [nb, nb].
// The S x S score matrix never exists. Torch-free so nvcc compiles it alone.
#pragma once

#include "kernels/element_type.hpp"

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

cudaError_t block_attention_map(const void* q, const void* k, ElementType type, int64_t seq, int64_t q_heads,
                                int64_t kv_heads, int64_t head_dim, int64_t q_row_stride, int64_t k_row_stride,
                                int64_t block, float* out, cudaStream_t stream);

}  // namespace jenga::core::kernels
