// Which keys each query attends: the one currency of attention-sparsity methods. A method
// (A-shape, vertical-slash, block top-k, decode-time page selection, ...) decides per layer and
// query head a SparseLayout; block_sparse_attention (block_sparse_attention.hpp) executes it.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace jenga::core {

// The geometry a layout is drawn on. Queries are the last seq_q of seq_k positions: query i sits
// at key position q_offset() + i (seq_q == seq_k: training or a whole pre-fill; seq_q < seq_k: a
// pre-fill chunk or decode steps against a cache). Query blocks count from the first query: row
// r = head * q_blocks() + b holds queries [b * block_q, min((b + 1) * block_q, seq_q)); key block j
// holds keys [j * block_k, min((j + 1) * block_k, seq_k)).
struct LayoutShape {
  int64_t heads = 0;  // query heads (grouped-query attention: one row set per query head)
  int64_t seq_q = 0;
  int64_t seq_k = 0;
  int64_t block_q = 64;
  int64_t block_k = 64;

  int64_t q_blocks() const { return (seq_q + block_q - 1) / block_q; }
  int64_t k_blocks() const { return (seq_k + block_k - 1) / block_k; }
  int64_t rows() const { return heads * q_blocks(); }
  int64_t q_offset() const { return seq_k - seq_q; }
  // Key positions of the first and last query of query block b.
  int64_t first_position(int64_t b) const { return q_offset() + b * block_q; }
  int64_t last_position(int64_t b) const;
  // (query, key) pairs with key <= query, over all heads: what dense causal attention computes.
  int64_t causal_pairs() const;
  // Throws Error unless the sizes are positive and seq_q <= seq_k.
  void check() const;
};

// CSR over rows (head, query block): row r attends the key blocks
// block_indices[block_offsets[r] .. block_offsets[r + 1]) and, when present, the single key
// positions columns[column_offsets[r] .. column_offsets[r + 1]) (vertical lines). Causality is
// applied per element on top: a listed block that straddles the diagonal is attended only up to
// each query's own position. Invariants (validate()): int32, one device; offsets start at 0 and do
// not decrease; each row's blocks and columns strictly ascend; no listed block lies wholly after
// its row's last query, no column after it or inside one of the row's listed blocks.
struct SparseLayout : LayoutShape {
  at::Tensor block_offsets;   // int32 [rows() + 1]
  at::Tensor block_indices;   // int32 [nnz]
  at::Tensor column_offsets;  // int32 [rows() + 1], or undefined: no columns
  at::Tensor columns;         // int32 [ncols]

  bool has_columns() const { return column_offsets.defined(); }
  int64_t nnz_blocks() const { return block_indices.defined() ? block_indices.numel() : 0; }
  int64_t nnz_columns() const { return columns.defined() ? columns.numel() : 0; }
  SparseLayout to(c10::Device device) const;
  // Every invariant above, with the offending row, head and index in the message. Copies the
  // lists to the host: call it where a layout is built, not per step.
  void validate() const;
  // What builders call: validate() when the lists are on the host (free) or JENGA_CHECK_LAYOUTS=1;
  // otherwise check() only, so a per-step device builder (decode, pre-fill) never waits on the host.
  void validate_built() const;
  // (query, key) pairs attended (listed and causal), over all heads.
  int64_t attended_pairs() const;
  // attended_pairs() / causal_pairs(): 1 for dense causal attention.
  double density() const;
};

// Builders. Each returns a validated layout on `device` (on the scores' / mask's device for the
// last three); "visible" key blocks of a row are those not wholly after its last query.

// Every visible block: dense causal attention.
SparseLayout dense_causal_layout(const LayoutShape& shape, c10::Device device = c10::kCPU);

// StreamingLLM / MInference A-shape: the first sink_blocks key blocks plus a local window: the
// key blocks overlapping the row's own queries (the diagonal) and the local_blocks - 1 before them.
SparseLayout a_shape_layout(const LayoutShape& shape, int64_t sink_blocks, int64_t local_blocks,
                            c10::Device device = c10::kCPU);

// mask: bool [heads, q_blocks, k_blocks], true = attend. A true block that is not visible is an
// error (it would attend nothing and usually means misaligned indices).
SparseLayout layout_from_block_mask(const at::Tensor& mask, const LayoutShape& shape);

// scores: [heads, q_blocks, k_blocks] (e.g. pooled q . pooled k, MInference's block-sparse
// estimate); each row keeps its top k visible blocks (all of them when it has fewer). With
// keep_diagonal the diagonal blocks are kept first, so every query sees at least itself.
SparseLayout topk_layout(const at::Tensor& scores, int64_t k, const LayoutShape& shape, bool keep_diagonal = true);

// The same with k = ceil(fraction * the row's visible blocks): a target density per row.
SparseLayout topk_fraction_layout(const at::Tensor& scores, double fraction, const LayoutShape& shape,
                                  bool keep_diagonal = true);

// Adds vertical lines: columns [heads, n] (integer key positions per head, any order, -1 or
// duplicates ignored) become each row's column list, minus the columns after the row's last
// query or inside one of its listed blocks (MInference's vertical-slash: slashes as blocks,
// verticals as columns). Replaces any columns the layout had.
SparseLayout with_columns(const SparseLayout& layout, const at::Tensor& columns);

// bool [heads, seq_q, seq_k] on the layout's device: true where query i attends key c (listed and
// causal). Materialises the full mask: tests, references and small sequences only.
at::Tensor layout_mask(const SparseLayout& layout);

}  // namespace jenga::core
