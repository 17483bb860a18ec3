// Quest (Tang et al., 2024, "Quest: Query-Aware Sparsity for Efficient Long-Context LLM
// Inference"): decode-time page selection. Keys are cut into pages; each page keeps the
// element-wise min and max of its keys; a query's upper bound on q·k within a page is
// Σ_d max(q_d·min_d, q_d·max_d); the top pages by that bound (and always the last, newest page)
// are attended exactly. Layers Quest leaves dense (its first two) are the caller's choice.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace jenga::core::quest {

// Per key head and page: element-wise min / max of the page's keys, float [Hkv, pages, D]. Page p
// holds keys [p * page_size, min((p + 1) * page_size, seq_k)). Recomputed from the cache each
// step here (one pass over the keys); a serving cache would update the last page incrementally.
struct PageBounds {
  at::Tensor min;
  at::Tensor max;
  int64_t page_size = 16;
  int64_t seq_k = 0;
  int64_t pages() const { return (seq_k + page_size - 1) / page_size; }
};

// k [S, Hkv, D] -> the bounds of its pages.
PageBounds page_bounds(const at::Tensor& k, int64_t page_size = 16);

// Decoding: the bounds after appending keys k_new [n, Hkv, D] to the cache they describe (the
// ragged last page grows, new pages follow): O(n) per step instead of page_bounds' O(S).
// Equal to page_bounds of the whole cache. Updates the last page's tensors in place.
void append_keys(PageBounds& bounds, const at::Tensor& k_new);

// q [Hq, D] or [1, Hq, D] (GQA: query head h reads key head h / (Hq / Hkv)) -> float [Hq, pages]:
// Σ_d max(q_d·min_d, q_d·max_d) >= q·k for every key k of the page.
at::Tensor upper_bounds(const at::Tensor& q, const PageBounds& bounds);

// The top_pages pages by upper bound, the last page always among them (it takes one of the
// top_pages slots) -> int64 [Hq, min(top_pages, pages)] ascending.
at::Tensor select_pages(const at::Tensor& q, const PageBounds& bounds, int64_t top_pages);

// The keys of select_pages' pages, ascending, the newest page cut at seq_k -> int64
// [Hq, n * page_size - (pages * page_size - seq_k)] with n = min(top_pages, pages). On the GPU one
// kernel after the bounds (a radix select of the pages and the keys written in order).
at::Tensor select_keys(const at::Tensor& q, const PageBounds& bounds, int64_t top_pages);

struct Options {
  int64_t page_size = 16;
  int64_t token_budget = 1024;  // keys attended per query head: token_budget / page_size pages (at least 1)
  int64_t block = 64;           // the layout's block_k (64 for the CUDA kernels)
};

// The decode layout (seq_q = 1, the query at key position S - 1) of the selected pages. Pages are
// expressed as whole key blocks when page_size is a multiple of block (no loss: block-sized
// pages), otherwise as single key columns (Quest's default 16-key pages: the kernels' 64-key
// blocks would read 4x the budget, so the selection is kept exact at column granularity).
SparseLayout layout(const at::Tensor& q, const at::Tensor& k, const Options& options = {});

}  // namespace jenga::core::quest
