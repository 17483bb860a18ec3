// What the attention-sparsity methods (minference.hpp, parallel_context.hpp, quest.hpp,
// spotlight.hpp) share: joining per-head layouts, decode layouts from selected key positions, and
// the measures they are judged by (recall of the dense attention mass, IoU with the true top-k).
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace jenga::core {

// Layouts of one geometry (seq_q, seq_k, blocks; any heads) joined head after head: per-head
// choices (MInference's per-head patterns) become one layout. The result has columns when any part
// has them (parts without get empty rows). Validated.
SparseLayout concat_heads(const std::vector<SparseLayout>& parts);

// A decode layout (seq_q = 1: the query is key position seq_k - 1) from selected key positions:
// selected int64 [heads, n] (-1, duplicates and positions outside [0, seq_k) ignored) become
// columns; the local_blocks key blocks ending at the query's own block are listed as blocks (the
// recent window Quest and Spotlight always keep; 0 = none). Selected keys inside those blocks
// are not repeated as columns.
SparseLayout decode_layout(const at::Tensor& selected, int64_t seq_k, int64_t local_blocks = 1, int64_t block_k = 64);

// The decode layout whose rows are exactly `columns` (int [heads, n], each row strictly ascending
// inside [0, seq_k); the caller's promise, checked where validate_built() checks): no blocks, no
// compaction, so building it never waits on the device. The per-step path of a selector that
// always returns n distinct sorted keys (StreamingLLM, Spotlight's top-n, Quest's whole pages).
SparseLayout columns_layout(const at::Tensor& columns, int64_t seq_k, int64_t block_k = 64);

// Recall of the dense attention: q [Sq, Hq, D], k [S, Hkv, D] (queries are the last Sq key
// positions, as in SparseLayout; GQA), for the queries at indices `queries` (int64 [n], into q):
// the dense causal softmax(q kᵀ * scale) probability that the layout covers, averaged over those
// queries -> float [Hq]. 1 is lossless; MInference's search maximises it.
at::Tensor attention_recall(const at::Tensor& q, const at::Tensor& k, const SparseLayout& layout, const at::Tensor& queries,
                            double scale);

// The n keys with the largest q·k for decode queries q [Hq, D] (or [1, Hq, D]) over keys
// k [S, Hkv, D], all visible -> int64 [Hq, n] ascending. The reference a selection's IoU is taken to.
at::Tensor true_topk_keys(const at::Tensor& q, const at::Tensor& k, int64_t n);

// |A ∩ B| / |A ∪ B| of two selections a [H, n] and b [H, m] (or 1-D: one row; negative entries
// ignored), averaged over rows. Two empty rows count as 1.
double selection_iou(const at::Tensor& a, const at::Tensor& b);

}  // namespace jenga::core
