// MInference's three patterns, their online estimates and the offline per-head search (minference.hpp);
// pattern files are in minference_files.cpp.
#include "jenga/core/attention/minference.hpp"

#include "attention/methods/internal.hpp"
#include "jenga/core/attention/selection.hpp"
#include "jenga/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace jenga::core::minference {

using methods_detail::longs;
using methods_detail::make_shape;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_block(int64_t block, const char* who) {
  if (block <= 0) throw Error(msg(who, ": block must be positive, got ", block));
}

}  // namespace

std::string pattern_name(Pattern p) {
  switch (p) {
    case Pattern::AShape: return "a_shape";
    case Pattern::VerticalSlash: return "vertical_slash";
    case Pattern::BlockSparse: return "block_sparse";
  }
  return "?";
}

HeadPattern scaled(const HeadPattern& p, int64_t seq_len, int64_t reference_len) {
  if (seq_len <= 0 || reference_len <= 0)
    throw Error(msg("minference::scaled: lengths must be positive, got seq_len ", seq_len, ", reference_len ", reference_len));
  const double f = std::min(1.0, static_cast<double>(seq_len) / static_cast<double>(reference_len));
  const auto s = [f](int64_t budget) { return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(budget * f))); };
  HeadPattern out = p;
  out.a_shape.local_tokens = s(p.a_shape.local_tokens);
  out.vertical_slash.vertical = s(p.vertical_slash.vertical);
  out.vertical_slash.slash = s(p.vertical_slash.slash);
  out.block_sparse.top_k_blocks = s(p.block_sparse.top_k_blocks);
  return out;
}

SparseLayout a_shape(const LayoutShape& shape, const AShapeParams& params) {
  if (params.sink_tokens < 0 || params.local_tokens < 0)
    throw Error(msg("minference::a_shape: token counts must be >= 0, got sink ", params.sink_tokens, ", local ", params.local_tokens));
  return a_shape_layout(shape, ceil_div(params.sink_tokens, shape.block_k), ceil_div(params.local_tokens, shape.block_k));
}

VerticalSlashEstimate estimate_vertical_slash(const at::Tensor& q, const at::Tensor& k, int64_t last_q, double scale) {
  methods_detail::check_qk(q, k, "minference::estimate_vertical_slash");
  if (last_q <= 0) throw Error(msg("minference::estimate_vertical_slash: last_q must be positive, got ", last_q));
  const int64_t Sq = q.size(0), S = k.size(0), Hq = q.size(1);
  const int64_t n = std::min(last_q, Sq);
  const auto dev = q.device();
  const auto ql = q.narrow(0, Sq - n, n).to(at::kFloat).permute({1, 0, 2});  // [Hq, n, D]
  auto logits = at::bmm(ql, methods_detail::keys_per_query_head(k, Hq).transpose(1, 2)) * scale;  // [Hq, n, S]
  const auto pos = at::arange(S - n, S, longs(dev)).view({-1, 1});  // the last n queries' key positions
  const auto key = at::arange(S, longs(dev)).view({1, -1});
  logits.masked_fill_(key.gt(pos).unsqueeze(0), -std::numeric_limits<float>::infinity());
  const auto p = at::softmax(logits, -1);
  VerticalSlashEstimate e;
  e.vertical = p.sum(1);
  // Offsets of the causal pairs; masked pairs have p = 0, so clamping their offsets is harmless.
  const auto offset = (pos - key).clamp_min(0).reshape({1, -1}).expand({Hq, n * S});
  e.slash = at::zeros({Hq, S}, p.options()).scatter_add_(1, offset, p.reshape({Hq, n * S}));
  return e;
}

std::pair<at::Tensor, at::Tensor> top_vertical_slash(const VerticalSlashEstimate& e, const VerticalSlashParams& params) {
  if (!e.vertical.defined() || e.vertical.dim() != 2 || !e.slash.defined() || !e.slash.sizes().equals(e.vertical.sizes()))
    throw Error("minference::top_vertical_slash: expected an estimate with vertical and slash [Hq, S]");
  if (params.vertical < 0 || params.slash < 0)
    throw Error(msg("minference::top_vertical_slash: budgets must be >= 0, got vertical ", params.vertical, ", slash ",
                    params.slash));
  const int64_t S = e.vertical.size(1);
  const auto forced = [S](const at::Tensor& score, int64_t first) {
    auto s = score.clone();
    if (first > 0) s.narrow(1, 0, std::min(first, S)).fill_(std::numeric_limits<float>::infinity());
    return s;
  };
  // The nearest diagonals are the small offsets; the first columns are the sinks.
  const auto v = forced(e.vertical, params.keep_first_columns);
  const auto s = forced(e.slash, params.keep_nearest_slashes);
  const auto cols = std::get<1>(v.topk(std::min(params.vertical, S), -1));
  const auto offs = std::get<1>(s.topk(std::min(params.slash, S), -1));
  return {std::get<0>(cols.sort(-1)), std::get<0>(offs.sort(-1))};
}

SparseLayout vertical_slash_layout(const LayoutShape& shape, const at::Tensor& columns, const at::Tensor& offsets,
                                   int64_t cluster_threshold) {
  shape.check();
  if (columns.dim() != 2 || offsets.dim() != 2 || columns.size(0) != shape.heads || offsets.size(0) != shape.heads)
    throw Error(msg("minference::vertical_slash_layout: expected columns and offsets [", shape.heads, ", n], got ",
                    columns.sizes(), " and ", offsets.sizes()));
  const auto dev = offsets.device();
  const int64_t H = shape.heads, QB = shape.q_blocks(), KB = shape.k_blocks(), bk = shape.block_k;
  const auto b = at::arange(QB, longs(dev));
  const auto p0 = (b * shape.block_q + shape.q_offset()).view({1, -1, 1});
  const auto p1 = (at::clamp_max((b + 1) * shape.block_q, shape.seq_q) - 1 + shape.q_offset()).view({1, -1, 1});
  // Key block j crosses the band of offset o in query block b iff some query p in [p0, p1] and key
  // c in the block have p - c = o, i.e. o in [p0 - last key of j, p1 - first key of j]. A prefix
  // count of the chosen offsets answers that per (b, j) in O(1): memory q_blocks x k_blocks, not
  // x the number of slashes.
  const auto o = offsets.to(dev).to(at::kLong);
  const auto chosen = o.ge(0).logical_and(o.lt(shape.seq_k));
  auto hist = at::zeros({H, shape.seq_k + 1}, longs(dev));  // slot seq_k collects the invalid offsets
  hist.scatter_(1, at::where(chosen, o, at::full_like(o, shape.seq_k)), 1);
  const auto count = at::cat({at::zeros({H, 1}, longs(dev)), hist.narrow(1, 0, shape.seq_k).cumsum(1)}, 1);  // [H, S + 1]
  const auto kb = at::arange(KB, longs(dev)).view({1, 1, -1});
  const auto c_min = kb * bk, c_max = at::clamp_max(kb * bk + bk, shape.seq_k) - 1;
  const auto hi = at::clamp_max(p1 - c_min, shape.seq_k - 1);  // [1, QB, KB]
  const auto lo = (p0 - c_max).clamp_min(0);
  const auto gather = [&](const at::Tensor& idx) {
    return count.gather(1, idx.clamp(0, shape.seq_k).reshape({1, -1}).expand({H, QB * KB})).view({H, QB, KB});
  };
  auto mask = (gather(hi + 1) - gather(lo)).gt(0).logical_and(hi.ge(lo));
  const auto& j = kb;
  // The diagonal: every query block sees its own keys.
  mask.logical_or_(j.ge(at::div(p0, bk, "floor")).logical_and(j.le(at::div(p1, bk, "floor"))));
  const auto cols = columns.to(dev).to(at::kLong);
  if (cluster_threshold > 0 && cols.size(1) > 0) {
    const auto in = cols.ge(0).logical_and(cols.lt(shape.seq_k));
    auto per_block = at::zeros({H, KB + 1}, longs(dev));
    per_block.scatter_add_(1, at::where(in, at::div(cols.clamp_min(0), bk, "floor"), at::full_like(cols, KB)), in.to(at::kLong));
    mask.logical_or_(per_block.narrow(1, 0, KB).ge(cluster_threshold).unsqueeze(1));
  }
  mask.logical_and_(j.le(at::div(p1, bk, "floor")));  // visible blocks only
  auto L = layout_from_block_mask(mask, shape);
  L = with_columns(L, cols);
  L.validate_built();
  return L;
}

SparseLayout vertical_slash(const at::Tensor& q, const at::Tensor& k, const VerticalSlashParams& params, double scale,
                            int64_t block) {
  check_block(block, "minference::vertical_slash");
  const auto e = estimate_vertical_slash(q, k, params.last_q, scale);
  const auto [cols, offs] = top_vertical_slash(e, params);
  return vertical_slash_layout(make_shape(q.size(1), q.size(0), k.size(0), block, block), cols, offs, params.cluster_threshold);
}

at::Tensor block_scores(const at::Tensor& q, const at::Tensor& k, int64_t block) {
  methods_detail::check_qk(q, k, "minference::block_scores");
  check_block(block, "minference::block_scores");
  const int64_t Sq = q.size(0), S = k.size(0), Hq = q.size(1), D = q.size(2);
  // Sum each block (zero padding to whole blocks), then divide by the tokens it has.
  const auto pool = [block, D](const at::Tensor& x, int64_t len) {  // x [H, len, D] -> [H, blocks, D]
    const int64_t nb = ceil_div(len, block);
    const auto padded = at::constant_pad_nd(x, {0, 0, 0, nb * block - len});
    const auto sums = padded.view({x.size(0), nb, block, D}).sum(2);
    const auto counts = at::clamp_max(len - at::arange(nb, longs(x.device())) * block, block).to(at::kFloat);
    return sums / counts.view({1, -1, 1});
  };
  const auto pq = pool(q.to(at::kFloat).permute({1, 0, 2}), Sq);
  const auto pk = pool(methods_detail::keys_per_query_head(k, Hq), S);
  return at::bmm(pq, pk.transpose(1, 2));
}

SparseLayout block_sparse(const at::Tensor& q, const at::Tensor& k, const BlockSparseParams& params, int64_t block) {
  const auto scores = block_scores(q, k, block);
  return topk_layout(scores, params.top_k_blocks, make_shape(q.size(1), q.size(0), k.size(0), block, block), true);
}

namespace {

// The layout of all of q's heads under one pattern (k: their key heads, GQA allowed).
SparseLayout one_pattern(const at::Tensor& q, const at::Tensor& k, const HeadPattern& p, double scale, int64_t block) {
  switch (p.pattern) {
    case Pattern::AShape: return a_shape(make_shape(q.size(1), q.size(0), k.size(0), block, block), p.a_shape);
    case Pattern::VerticalSlash: return vertical_slash(q, k, p.vertical_slash, scale, block);
    case Pattern::BlockSparse: return block_sparse(q, k, p.block_sparse, block);
  }
  throw Error("minference: unknown pattern");
}

bool same_pattern(const HeadPattern& a, const HeadPattern& b) {
  if (a.pattern != b.pattern) return false;
  switch (a.pattern) {
    case Pattern::AShape: return a.a_shape.sink_tokens == b.a_shape.sink_tokens && a.a_shape.local_tokens == b.a_shape.local_tokens;
    case Pattern::VerticalSlash: {
      const auto &x = a.vertical_slash, &y = b.vertical_slash;
      return x.vertical == y.vertical && x.slash == y.slash && x.last_q == y.last_q && x.keep_first_columns == y.keep_first_columns &&
             x.keep_nearest_slashes == y.keep_nearest_slashes && x.cluster_threshold == y.cluster_threshold;
    }
    case Pattern::BlockSparse: return a.block_sparse.top_k_blocks == b.block_sparse.top_k_blocks;
  }
  return false;
}

// Query heads [h, e) and their key heads: a view of k when the run covers whole GQA groups or
// lies inside one, otherwise a gathered copy (one key head per query head).
std::pair<at::Tensor, at::Tensor> run_slices(const at::Tensor& q, const at::Tensor& k, int64_t h, int64_t e) {
  const int64_t g = q.size(1) / k.size(1);
  if (h % g == 0 && (e - h) % g == 0) return {q.narrow(1, h, e - h), k.narrow(1, h / g, (e - h) / g)};
  if (h / g == (e - 1) / g) return {q.narrow(1, h, e - h), k.narrow(1, h / g, 1)};  // all in one group
  return {q.narrow(1, h, e - h), k.index_select(1, at::div(at::arange(h, e, longs(k.device())), g, "floor"))};
}

}  // namespace

SparseLayout layout_for_heads(const at::Tensor& q, const at::Tensor& k, const std::vector<HeadPattern>& heads, double scale,
                              int64_t block) {
  methods_detail::check_qk(q, k, "minference::layout_for_heads");
  check_block(block, "minference::layout_for_heads");
  const int64_t Hq = q.size(1);
  if (static_cast<int64_t>(heads.size()) != Hq)
    throw Error(msg("minference::layout_for_heads: ", heads.size(), " head patterns for q ", q.sizes(), " (one per query head)"));
  // Consecutive heads with one pattern are estimated and laid out together (each head's result is
  // its own: the builders are per head), up to kRun at once: per-head calls cost 32 x (launches
  // and syncs) per layer, whole-layer calls cost memory (the vertical-slash mask is H x blocks^2).
  constexpr int64_t kRun = 8;
  std::vector<SparseLayout> parts;
  for (int64_t h = 0; h < Hq;) {
    int64_t e = h + 1;
    while (e < Hq && e - h < kRun && same_pattern(heads[e], heads[h])) ++e;
    const auto [qr, kr] = run_slices(q, k, h, e);
    parts.push_back(one_pattern(qr, kr, heads[h], scale, block));
    h = e;
  }
  return parts.size() == 1 ? parts.front() : concat_heads(parts);
}

std::vector<HeadPattern> default_candidates(int64_t seq_len) {
  std::vector<HeadPattern> out;
  const auto add = [&](HeadPattern p) { out.push_back(scaled(p, seq_len)); };
  for (const int64_t local : {2048, 4096, 8192}) {
    HeadPattern p;
    p.pattern = Pattern::AShape;
    p.a_shape.local_tokens = local;
    add(p);
  }
  for (const auto& [v, s] : std::vector<std::pair<int64_t, int64_t>>{{1000, 6096}, {3000, 2048}, {500, 8192}, {100, 800}}) {
    HeadPattern p;
    p.pattern = Pattern::VerticalSlash;
    p.vertical_slash.vertical = v;
    p.vertical_slash.slash = s;
    add(p);
  }
  for (const int64_t topk : {50, 100, 200}) {
    HeadPattern p;
    p.pattern = Pattern::BlockSparse;
    p.block_sparse.top_k_blocks = topk;
    add(p);
  }
  return out;
}

std::vector<HeadChoice> search_patterns(const at::Tensor& q, const at::Tensor& k, const SearchOptions& options, double scale) {
  methods_detail::check_qk(q, k, "minference::search_patterns");
  check_block(options.block, "minference::search_patterns");
  if (options.eval_queries <= 0) throw Error(msg("minference::search_patterns: eval_queries must be positive, got ", options.eval_queries));
  const int64_t Sq = q.size(0);
  const auto candidates = options.candidates.empty() ? default_candidates(k.size(0)) : options.candidates;
  at::Tensor queries;
  if (options.spread) {
    const int64_t half = Sq / 2, n = std::min(options.eval_queries, Sq - half);
    queries = std::get<0>(at::unique_dim(at::linspace(static_cast<double>(half), static_cast<double>(Sq - 1), n).round().to(at::kLong), 0));
  } else {
    const int64_t n = std::min(options.eval_queries, Sq);
    queries = at::arange(Sq - n, Sq, longs(q.device()));
  }
  std::vector<HeadChoice> out;
  for (int64_t h = 0; h < q.size(1); ++h) {
    const auto [qh, kh] = run_slices(q, k, h, h + 1);
    std::vector<HeadChoice> tried;
    for (const auto& c : candidates) {
      const auto L = one_pattern(qh, kh, c, scale, options.block);
      HeadChoice choice;
      choice.pattern = c;
      choice.density = L.density();
      choice.recall = attention_recall(qh, kh, L, queries.to(q.device()), scale).item<double>();
      tried.push_back(choice);
    }
    const bool any_eligible = std::any_of(tried.begin(), tried.end(), [&](const HeadChoice& c) { return c.density <= options.max_density; });
    const HeadChoice* best = nullptr;
    if (!any_eligible) {
      for (const auto& c : tried)
        if (!best || c.density < best->density) best = &c;
    } else {
      double top = -1;
      for (const auto& c : tried)
        if (c.density <= options.max_density) top = std::max(top, c.recall);
      for (const auto& c : tried)
        if (c.density <= options.max_density && c.recall >= top - options.recall_tolerance && (!best || c.density < best->density))
          best = &c;
    }
    out.push_back(*best);
  }
  return out;
}

}  // namespace jenga::core::minference
