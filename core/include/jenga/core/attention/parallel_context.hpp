// Parallel context encoding (seeds.md: "An Analysis of Parallel Context Encoding", ACL 2025; in the
// line of APE): the context before a scored suffix is cut into P pieces encoded independently,
// optionally behind a shared attention-sink prefix, and the suffix attends to all pieces (or,
// selective attention, to the top-k). Here: the layout, the position ids and the piece selection.
//
// Sequence = [prefix: n_sink tokens][context: P pieces][suffix: the rest]. Attention:
//   prefix -> prefix (causal); piece i -> prefix + piece i (causal);
//   suffix -> prefix + the selected pieces (all by default) + suffix (causal).
// Positions (our reading of the paper's scheme, seeds.md: "position ids follow the paper's
// scheme"): prefix 0..n_sink-1; every piece restarts at n_sink (as if it alone followed the
// prefix, so each piece is encoded exactly as it would be alone); the suffix continues after the
// longest piece: n_sink + max piece length + i.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace jenga::core::pce {

// Segment lengths in tokens. Piece boundaries fall on multiples of `block` so the layout can
// express them exactly (a key block straddling two pieces would leak one into the other): n_sink
// and context must be multiples of block, and the context's context / block blocks are dealt to
// the P pieces as evenly as possible (the first context/block % P pieces get one block more).
// block = 64 suits the CUDA kernels; block = 1 gives token-exact pieces for the reference / mask.
struct Spec {
  int64_t n_sink = 0;
  int64_t context = 0;
  int64_t pieces = 1;
  int64_t suffix = 0;
  int64_t block = 64;

  int64_t total() const { return n_sink + context + suffix; }
  int64_t suffix_begin() const { return n_sink + context; }
  // Throws Error unless the sizes are valid (see above; suffix >= 1).
  void check() const;
  // Start and length of each piece (token positions in the sequence).
  std::vector<int64_t> piece_begins() const;
  std::vector<int64_t> piece_lengths() const;
};

// int64 [total()]: the position ids above.
at::Tensor position_ids(const Spec& spec);

// bool [heads, total(), total()], true = query attends key: the token-level truth the layout
// must equal. selected: int64 [heads, k] pieces the suffix reads (undefined: all pieces).
at::Tensor attention_mask(const Spec& spec, int64_t heads, const at::Tensor& selected = {});

// The same as a SparseLayout (seq_q = seq_k = total(), block_q = block_k = spec.block). Validated.
SparseLayout layout(const Spec& spec, int64_t heads, const at::Tensor& selected = {});

// Selective attention's score: per query head, the softmax attention mass (scale·q·k over the
// context keys only) of the suffix's mean-pooled query that falls in each piece -> float [Hq, P].
// q [S, Hq, D], k [S, Hkv, D] over the whole sequence (RoPE'd with position_ids; GQA).
at::Tensor piece_scores(const at::Tensor& q, const at::Tensor& k, const Spec& spec, double scale);

// The top_k (1 <= top_k <= P) pieces by piece_scores per query head -> int64 [Hq, top_k] ascending.
at::Tensor select_pieces(const at::Tensor& q, const at::Tensor& k, const Spec& spec, int64_t top_k, double scale);

}  // namespace jenga::core::pce
