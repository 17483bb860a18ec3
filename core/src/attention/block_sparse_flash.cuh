// Block-sparse flash attention kernels (FlashAttention-2 style: mma.sync tensor cores on sm_80+,
// the forward on Hopper's wgmma where built for sm_90a): the torch-free entry points. Token-major tensors: element (s, h, d) of q/k/v/out/dout lives at
// s * row_stride + h * head_dim + d (row strides multiples of 8 elements, 16-byte aligned bases).
// Query i sits at key position seq_k - seq_q + i and never sees a later key. The layout is the
// CSR of jenga/core/attention/sparse_layout.hpp: row r = head * q_blocks + query block (block_q
// rows of 64 or 128), key blocks of 64; optional column lists (gathered into 64-key tiles).
// bf16 / fp16, head_dim 64 or 128. Torch-free so nvcc compiles it alone.
#pragma once

#include "kernels/element_type.hpp"

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

struct BlockSparseProblem {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t q_stride = 0, k_stride = 0, v_stride = 0;
  int seq_q = 0, seq_k = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  int block_q = 64;  // layout rows: 64 or 128 queries; key blocks are always 64
  int q_blocks = 0, k_blocks = 0;
  const int32_t* block_offsets = nullptr;   // [q_heads * q_blocks + 1]
  const int32_t* block_indices = nullptr;   // [nnz] key blocks
  const int32_t* column_offsets = nullptr;  // [q_heads * q_blocks + 1], or null: no columns
  const int32_t* columns = nullptr;         // [ncols] key positions
  float scale = 1.f;
  // Forward kernels: 0 = Hopper wgmma where block_sparse_sm90_ready(), else mma.sync;
  // 1 = mma.sync (sm_80+); 2 = wgmma only (cudaErrorNotSupported where not ready).
  int path = 0;
};

// Whether the current device is compute capability 9.0 and this binary holds the sm_90a kernels.
bool block_sparse_sm90_ready();

// Whether the kernels take this problem (sizes, block sizes, strides, pointers); the entry points
// return cudaErrorInvalidValue otherwise.
bool block_sparse_problem_ok(const BlockSparseProblem& p);

// out [seq_q, q_heads, head_dim] (row stride out_stride), lse fp32 [q_heads, seq_q]: the natural
// logsumexp of the scaled scores each query attended, +inf for a query that attended nothing
// (its output is 0).
cudaError_t block_sparse_flash_forward(const BlockSparseProblem& p, ElementType type, void* out, int64_t out_stride,
                                       float* lse, cudaStream_t stream);

// The forward's Hopper kernels (what block_sparse_flash_forward runs for path 0 / 2 when ready).
cudaError_t block_sparse_flash_forward_sm90(const BlockSparseProblem& p, ElementType type, void* out, int64_t out_stride,
                                            float* lse, cudaStream_t stream);

// One query per head (seq_q == 1, a decode step): each head's keys (its blocks, then its columns)
// are cut into `splits` equal runs, one thread block each, which write a partial result (fp32
// unnormalised output, running max and sum: [q_heads][splits][head_dim + 2] in `workspace`); a
// second kernel merges them. The tiled kernels would give a head one thread block whose 64 query
// rows are all padding but one, walking every key alone.
int block_sparse_decode_splits(const BlockSparseProblem& p);  // for the current device's multiprocessors
size_t block_sparse_decode_workspace_floats(const BlockSparseProblem& p, int splits);
cudaError_t block_sparse_flash_decode(const BlockSparseProblem& p, ElementType type, int splits, float* workspace, void* out,
                                      float* lse, cudaStream_t stream);

struct BlockSparseBackward {
  const void* out = nullptr;   // the forward's output and its gradient, [seq_q, q_heads, D]
  const void* dout = nullptr;
  int64_t out_stride = 0, dout_stride = 0;
  const float* lse = nullptr;  // [q_heads, seq_q] from the forward
  float* delta = nullptr;      // scratch fp32 [q_heads, seq_q]: rowsum(dout * out)
  // Key-major transpose of the block lists: for (kv head, key block) c = kvh * k_blocks + j, the
  // layout rows listing j, kv_rows[kv_offsets[c] .. kv_offsets[c + 1]), ascending.
  const int32_t* kv_offsets = nullptr;  // [kv_heads * k_blocks + 1]
  const int32_t* kv_rows = nullptr;     // [nnz]
  // Outputs, contiguous: dq [seq_q, q_heads, D], dk / dv [seq_k, kv_heads, D].
  void* dq = nullptr;
  void* dk = nullptr;
  void* dv = nullptr;
  // With columns: fp32 [seq_k, kv_heads, D] zero-filled scratch the column tiles add into
  // (atomically); folded into dk / dv. Null when the layout has no columns.
  float* dk_columns = nullptr;
  float* dv_columns = nullptr;
};

// dq, dk, dv for the forward above. Block entries are reduced deterministically (each dq tile by
// its query block's thread block, each dk/dv tile by its key block's); column entries add into
// dk_columns / dv_columns with fp32 atomics.
cudaError_t block_sparse_flash_backward(const BlockSparseProblem& p, const BlockSparseBackward& g, ElementType type,
                                        cudaStream_t stream);

}  // namespace jenga::core::kernels
