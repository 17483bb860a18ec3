// Attention restricted to a SparseLayout (sparse_layout.hpp): each query attends the keys its
// row lists that are not after it. The execution half of the attention-sparsity interface.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <string>

namespace jenga::core {

// q [Sq, Hq, D], k / v [S, Hkv, D] token-major (Hq a multiple of Hkv; query head h reads key head
// h / (Hq / Hkv)) -> [Sq, Hq, D]. The layout must have heads = Hq, seq_q = Sq, seq_k = S; query i
// is at key position S - Sq + i. A query that attends no key gets 0. Differentiable in q, k, v.
// CUDA bf16 / fp16 with D 64 or 128, block_q 64 or 128 and block_k 64 run the block-sparse flash
// kernels (cost proportional to the listed blocks); everything else runs the reference below.
at::Tensor block_sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& layout,
                                  double scale);

// The reference: the [Hq, Sq, S] mask materialised (layout_mask), scores and softmax in fp32
// (fp64 for double inputs), differentiated by ATen's autograd. Any device; small S only.
at::Tensor block_sparse_attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const SparseLayout& layout, double scale);

// Whether block_sparse_attention runs the CUDA kernels for these inputs.
bool block_sparse_kernels_apply(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& layout);

// The forward kernel block_sparse_attention runs for kernel-eligible inputs on q's device:
// "wgmma" (Hopper, sm_90a build), "mma.sync" (sm_80+), or "reference" (no CUDA kernels). The
// environment variable JENGA_SPARSE_ATTENTION_KERNEL=mma.sync forces mma.sync (comparisons).
std::string block_sparse_forward_kernel(const at::Tensor& q);

}  // namespace jenga::core
