// Quest's decode-time page choice as one kernel: for each query head, the top `pages_kept` pages
// by upper bound (the newest page always among them), written straight as the ascending key
// positions of those pages, the ragged newest page cut at seq_k. Torch-free so nvcc compiles it alone.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

struct QuestSelect {
  const float* scores = nullptr;  // [q_heads][pages] upper bounds, contiguous
  int q_heads = 0, pages = 0, pages_kept = 0, page_size = 0, seq_k = 0;
};

// Keys per output row: pages_kept * page_size minus the newest page's missing keys.
int64_t quest_keys_per_row(const QuestSelect& p);

// out: int64 [q_heads][quest_keys_per_row(p)]. cudaErrorInvalidValue unless 1 <= pages_kept <=
// pages = ceil(seq_k / page_size).
cudaError_t quest_select_keys(const QuestSelect& p, int64_t* out, cudaStream_t stream);

}  // namespace jenga::core::kernels
