// MInference 1.0 (Jiang et al., 2024, "MInference 1.0: Accelerating Pre-filling for Long-Context
// LLMs via Dynamic Sparse Attention"): per attention head one of three sparse patterns, chosen
// offline by a search on a sample and estimated online from the head's own q / k, as SparseLayouts.
//
// Every function takes RoPE'd q [Sq, Hq, D] and k [S, Hkv, D] token-major (queries are the last Sq
// key positions, as block_sparse_attention; Hq a multiple of Hkv: query head h reads key head
// h / (Hq / Hkv)), and builds layouts with block_q = block_k = `block` (64 for the CUDA kernels).
// Budgets are in tokens, MInference's defaults for ~128K contexts; scaled() shrinks them for short S.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace jenga::core::minference {

enum class Pattern { AShape, VerticalSlash, BlockSparse };
// "a_shape", "vertical_slash", "block_sparse": the names pattern files use.
std::string pattern_name(Pattern p);

// StreamingLLM's attention sinks plus a local window (MInference's "A-shape").
struct AShapeParams {
  int64_t sink_tokens = 128;
  int64_t local_tokens = 4096;
};

// Key columns (verticals) plus diagonals (slashes), estimated from the last `last_q` queries.
struct VerticalSlashParams {
  int64_t vertical = 1000;  // key columns kept per head
  int64_t slash = 6096;     // diagonal offsets (query position - key position) kept per head
  int64_t last_q = 64;
  // MInference always keeps the first 30 columns (sinks) and the 100 nearest diagonals; they count
  // against the budgets above.
  int64_t keep_first_columns = 30;
  int64_t keep_nearest_slashes = 100;
  // A key block holding at least this many chosen columns is listed as a whole block rather than
  // column by column (a block costs the kernel one tile; scattered columns cost a tile per 64 of
  // them, so clustered verticals are cheaper as blocks). 0: verticals always stay columns.
  int64_t cluster_threshold = 0;
};

// Top-k key blocks per query block by mean-pooled q · mean-pooled k.
struct BlockSparseParams {
  int64_t top_k_blocks = 100;
};

// One head's choice: the pattern and its budget (only the pattern's own params are used).
struct HeadPattern {
  Pattern pattern = Pattern::VerticalSlash;
  AShapeParams a_shape;
  VerticalSlashParams vertical_slash;
  BlockSparseParams block_sparse;
};

// The budgets scaled by min(1, seq_len / reference_len): MInference's token budgets are for
// 128K-token inputs; a shorter input keeps the same fraction of its keys (at least one token or
// block of each). The sink of A-shape and the forced columns / slashes are kept as they are.
HeadPattern scaled(const HeadPattern& p, int64_t seq_len, int64_t reference_len = 131072);

// A-shape: ceil(sink_tokens / block) sink blocks and ceil(local_tokens / block) local blocks (a_shape_layout).
SparseLayout a_shape(const LayoutShape& shape, const AShapeParams& params);

// The online estimate: softmax(q_last kᵀ * scale) over causal keys for the last min(last_q, Sq)
// queries, summed over those queries per key column (vertical, float [Hq, S]) and per diagonal
// offset o = query position - key position (slash, float [Hq, S], o in [0, S)).
struct VerticalSlashEstimate {
  at::Tensor vertical;
  at::Tensor slash;
};
VerticalSlashEstimate estimate_vertical_slash(const at::Tensor& q, const at::Tensor& k, int64_t last_q, double scale);

// The chosen key columns and offsets, int64 [Hq, n] each (top by the estimate; forced ones first).
std::pair<at::Tensor, at::Tensor> top_vertical_slash(const VerticalSlashEstimate& e, const VerticalSlashParams& params);

// The layout of given verticals / slashes: for each query block, the key blocks its slash bands
// cross (queries p0..p1 at offset o read keys p0-o..p1-o) plus its diagonal block(s); the
// verticals as columns (or blocks, see cluster_threshold). MInference's index builder.
SparseLayout vertical_slash_layout(const LayoutShape& shape, const at::Tensor& columns, const at::Tensor& offsets,
                                   int64_t cluster_threshold = 0);

// Estimate, choose and lay out in one call.
SparseLayout vertical_slash(const at::Tensor& q, const at::Tensor& k, const VerticalSlashParams& params, double scale,
                            int64_t block = 64);

// float [Hq, q_blocks, k_blocks]: mean-pooled q (per query block, counted from the first query)
// · mean-pooled k (per key block); a ragged last block is the mean of the tokens it has.
at::Tensor block_scores(const at::Tensor& q, const at::Tensor& k, int64_t block = 64);

// Top top_k_blocks visible key blocks per query block by block_scores, the diagonal always kept.
SparseLayout block_sparse(const at::Tensor& q, const at::Tensor& k, const BlockSparseParams& params, int64_t block = 64);

// One layout for all query heads, head h by heads[h] (heads.size() == Hq). The model hook's call.
SparseLayout layout_for_heads(const at::Tensor& q, const at::Tensor& k, const std::vector<HeadPattern>& heads, double scale,
                              int64_t block = 64);

// ---- Offline pattern search (MInference's "kernel-aware" search, on one sample input).

struct SearchOptions {
  std::vector<HeadPattern> candidates;  // empty: default_candidates(S)
  // Compute budget: a candidate whose layout density (attended / causal pairs) exceeds it is not
  // eligible; when none is, the cheapest candidate is taken. MInference compares candidates of
  // about equal kernel cost: give candidates of similar density and keep this at 1.
  double max_density = 1.0;
  // Recall is measured on these queries: the last eval_queries of them (MInference's last 64),
  // or, with spread, eval_queries evenly spaced over the second half of the queries.
  int64_t eval_queries = 64;
  bool spread = false;
  // Among eligible candidates within this much recall of the best, the cheapest (lowest density)
  // wins: a kernel-aware search prefers the cheaper pattern when the recall is the same.
  double recall_tolerance = 0.005;
  int64_t block = 64;
};

struct HeadChoice {
  HeadPattern pattern;
  double recall = 0;   // attention_recall (selection.hpp) on the evaluation queries
  double density = 0;  // of this head's layout
};

// MInference's search grid, scaled to S: A-shape, vertical-slash and block-sparse at a few budgets.
std::vector<HeadPattern> default_candidates(int64_t seq_len);

// Per query head: the cheapest eligible candidate within recall_tolerance of the best recall -> [Hq].
std::vector<HeadChoice> search_patterns(const at::Tensor& q, const at::Tensor& k, const SearchOptions& options, double scale);

// ---- Pattern files: {"<layer>": {"<head>": {"pattern": "vertical_slash", "params": {"vertical":
// 1000, "slash": 6096}, "recall": 0.97, "density": 0.08}}} (recall / density are informative).
// Params per pattern: a_shape {sink_tokens, local_tokens}; vertical_slash {vertical, slash} and
// optionally last_q, keep_first_columns, keep_nearest_slashes, cluster_threshold;
// block_sparse {top_k_blocks}. Heads of a layer are 0..H-1, all present.

using PatternFile = std::map<int64_t, std::vector<HeadChoice>>;  // layer -> heads

void write_pattern_file(const std::string& path, const PatternFile& file);
// Errors name the file and where: line:column for syntax, the JSON path (/layer/head/params/key) for content.
PatternFile read_pattern_file(const std::string& path);

}  // namespace jenga::core::minference
