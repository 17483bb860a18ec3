// The pieces of block_sparse_attention below its autograd function, for white-box tests: the
// kernels' forward / backward with the logsumexp they pass between them, the reference's
// logsumexp, and the key-major transpose the dK / dV kernel walks.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

namespace jenga::core {

// out as block_sparse_attention; lse [Hq, Sq] fp32 (fp64 for double): natural logsumexp of each
// query's attended scaled scores, +inf for a query that attends nothing.
struct AttentionWithLse {
  at::Tensor out, lse;
};
struct AttentionGrads {
  at::Tensor dq, dk, dv;
};

AttentionWithLse block_sparse_reference_with_lse(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                 const SparseLayout& layout, double scale);

// Which forward kernel: Auto = the split-key decode kernel for one query per head, else Hopper
// wgmma where the device and build allow (else mma.sync); or one of them (Error when the one
// asked for cannot run; Decode needs seq_q == 1).
enum class FlashPath { Auto, MmaSync, Wgmma, Decode };

// The CUDA kernels, no autograd (Error where block_sparse_kernels_apply is false).
AttentionWithLse block_sparse_flash_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const SparseLayout& layout, double scale, FlashPath path = FlashPath::Auto);
// Whether the wgmma forward can run on q's device (CUDA build, compute capability 9.0, sm_90a code).
bool block_sparse_wgmma_available(const at::Tensor& q);
AttentionGrads block_sparse_flash_backward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                           const at::Tensor& out, const at::Tensor& lse, const at::Tensor& dout,
                                           const SparseLayout& layout, double scale);

// For (key head hk, key block j), c = hk * k_blocks + j: the layout rows of hk's query heads that
// list j, rows[offsets[c] .. offsets[c + 1]) ascending. int32, on the layout's device.
struct KeyMajorLayout {
  at::Tensor offsets, rows;
};
KeyMajorLayout key_major_layout(const SparseLayout& layout, int64_t kv_heads);

}  // namespace jenga::core
