// Shared helpers of the attention-sparsity methods (selection.hpp).
#include "jenga/core/attention/selection.hpp"

#include "attention/methods/internal.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace jenga::core {

using methods_detail::longs;

namespace {

// int64 [entries]: the row of each entry of a CSR list.
at::Tensor row_of_entries(const at::Tensor& offsets) {
  const auto o = offsets.to(at::kLong);
  const int64_t rows = o.numel() - 1;
  return at::repeat_interleave(o.slice(0, 1, rows + 1) - o.slice(0, 0, rows));
}

// The decode query's single row needs a [heads, 1, ...] shape everywhere.
at::Tensor as_decode_queries(const at::Tensor& q, const char* who) {
  if (q.dim() == 3 && q.size(0) == 1) return q[0];
  if (q.dim() == 2) return q;
  throw Error(msg(who, ": expected a decode query [Hq, D] or [1, Hq, D], got ", q.sizes()));
}

}  // namespace

SparseLayout concat_heads(const std::vector<SparseLayout>& parts) {
  if (parts.empty()) throw Error("concat_heads: no layouts to join");
  const auto& first = parts.front();
  bool columns = false;
  int64_t heads = 0;
  for (const auto& p : parts) {
    if (p.seq_q != first.seq_q || p.seq_k != first.seq_k || p.block_q != first.block_q || p.block_k != first.block_k)
      throw Error(msg("concat_heads: layouts differ in geometry: (seq_q ", p.seq_q, ", seq_k ", p.seq_k, ", blocks ", p.block_q, "x",
                      p.block_k, ") vs (", first.seq_q, ", ", first.seq_k, ", ", first.block_q, "x", first.block_k, ")"));
    columns = columns || p.has_columns();
    heads += p.heads;
  }
  const auto dev = first.block_offsets.device();
  std::vector<at::Tensor> bo, bi, co, ci;
  int64_t nb = 0, nc = 0;
  for (const auto& p : parts) {
    const auto o = p.block_offsets.to(dev).to(at::kLong);
    bo.push_back(o.slice(0, 0, p.rows()) + nb);
    bi.push_back(p.block_indices.to(dev));
    nb += p.nnz_blocks();
    if (!columns) continue;
    if (p.has_columns()) {
      co.push_back(p.column_offsets.to(dev).to(at::kLong).slice(0, 0, p.rows()) + nc);
      ci.push_back(p.columns.to(dev));
      nc += p.nnz_columns();
    } else {
      co.push_back(at::full({p.rows()}, nc, longs(dev)));
    }
  }
  SparseLayout L;
  static_cast<LayoutShape&>(L) = first;
  L.heads = heads;
  bo.push_back(at::full({1}, nb, longs(dev)));
  L.block_offsets = at::cat(bo).to(at::kInt).contiguous();
  L.block_indices = at::cat(bi).to(at::kInt).contiguous();
  if (columns) {
    co.push_back(at::full({1}, nc, longs(dev)));
    L.column_offsets = at::cat(co).to(at::kInt).contiguous();
    L.columns = ci.empty() ? at::zeros({0}, at::TensorOptions().dtype(at::kInt).device(dev)) : at::cat(ci).to(at::kInt).contiguous();
  }
  L.validate_built();
  return L;
}

SparseLayout decode_layout(const at::Tensor& selected, int64_t seq_k, int64_t local_blocks, int64_t block_k) {
  if (selected.dim() != 2 || at::isFloatingType(selected.scalar_type()))
    throw Error(msg("decode_layout: expected integer selected key positions [heads, n], got ", selected.scalar_type(), " ",
                    selected.sizes()));
  if (local_blocks < 0) throw Error(msg("decode_layout: local_blocks must be >= 0, got ", local_blocks));
  const auto shape = methods_detail::make_shape(selected.size(0), 1, seq_k, block_k, block_k);
  const auto dev = selected.device();
  const int64_t last = (seq_k - 1) / block_k;
  const auto j = at::arange(shape.k_blocks(), longs(dev));
  const auto local = j.gt(last - local_blocks).logical_and(j.le(last));
  const auto mask = local.view({1, 1, -1}).expand({shape.heads, 1, shape.k_blocks()}).contiguous();
  auto L = layout_from_block_mask(mask, shape);
  const auto sel = selected.to(at::kLong);
  L = with_columns(L, at::where(sel.ge(0).logical_and(sel.lt(seq_k)), sel, at::full_like(sel, -1)));
  L.validate_built();
  return L;
}

SparseLayout columns_layout(const at::Tensor& columns, int64_t seq_k, int64_t block_k) {
  if (columns.dim() != 2 || at::isFloatingType(columns.scalar_type()) || columns.size(1) > seq_k)
    throw Error(msg("columns_layout: expected integer columns [heads, n <= seq_k ", seq_k, "], got ", columns.scalar_type(), " ",
                    columns.sizes()));
  const auto shape = methods_detail::make_shape(columns.size(0), 1, seq_k, block_k, block_k);
  const auto ints = at::TensorOptions().dtype(at::kInt).device(columns.device());
  SparseLayout L;
  static_cast<LayoutShape&>(L) = shape;
  L.block_offsets = at::zeros({shape.rows() + 1}, ints);
  L.block_indices = at::zeros({0}, ints);
  L.column_offsets = (at::arange(shape.rows() + 1, ints) * columns.size(1)).contiguous();
  L.columns = columns.to(at::kInt).reshape({-1}).contiguous();
  L.validate_built();
  return L;
}

at::Tensor attention_recall(const at::Tensor& q, const at::Tensor& k, const SparseLayout& layout, const at::Tensor& queries,
                            double scale) {
  methods_detail::check_qk(q, k, "attention_recall");
  const int64_t Sq = q.size(0), S = k.size(0), Hq = q.size(1);
  if (layout.heads != Hq || layout.seq_q != Sq || layout.seq_k != S)
    throw Error(msg("attention_recall: the layout (heads ", layout.heads, ", seq_q ", layout.seq_q, ", seq_k ", layout.seq_k,
                    ") does not fit q ", q.sizes(), " and k ", k.sizes()));
  const auto qi = queries.to(q.device()).to(at::kLong).reshape({-1});
  if (qi.numel() == 0 || qi.min().item<int64_t>() < 0 || qi.max().item<int64_t>() >= Sq)
    throw Error(msg("attention_recall: query indices must be in [0, ", Sq, "), got ", qi.numel(), " of them"));
  const int64_t n = qi.numel();
  // Dense causal probabilities of the chosen queries, fp32.
  const auto qs = q.index_select(0, qi).to(at::kFloat).permute({1, 0, 2});  // [Hq, n, D]
  auto logits = at::bmm(qs, methods_detail::keys_per_query_head(k, Hq).transpose(1, 2)) * scale;  // [Hq, n, S]
  const auto pos = (qi + layout.q_offset()).view({-1, 1});
  const auto causal = at::arange(S, longs(q.device())).view({1, -1}).le(pos);  // [n, S]
  logits.masked_fill_(causal.logical_not().unsqueeze(0), -std::numeric_limits<float>::infinity());
  const auto p = at::softmax(logits, -1);
  // The layout's rows for those queries, as a key mask [Hq, n, S].
  const auto L = layout.to(q.device());
  const auto qb = at::div(qi, layout.block_q, "floor");
  auto blocks = at::zeros({L.rows() * L.k_blocks()}, at::TensorOptions().dtype(at::kBool).device(q.device()));
  if (L.nnz_blocks() > 0)
    blocks.index_fill_(0, row_of_entries(L.block_offsets) * L.k_blocks() + L.block_indices.to(at::kLong), true);
  auto mask = blocks.view({Hq, L.q_blocks(), L.k_blocks()})
                  .index_select(1, qb)
                  .repeat_interleave(L.block_k, 2)
                  .narrow(2, 0, S);
  if (L.nnz_columns() > 0) {
    auto cols = at::zeros({L.rows() * S}, at::TensorOptions().dtype(at::kBool).device(q.device()));
    cols.index_fill_(0, row_of_entries(L.column_offsets) * S + L.columns.to(at::kLong), true);
    mask = mask.logical_or(cols.view({Hq, L.q_blocks(), S}).index_select(1, qb));
  }
  return (p * mask.to(at::kFloat)).sum(-1).sum(-1) / static_cast<double>(n);
}

at::Tensor true_topk_keys(const at::Tensor& q_in, const at::Tensor& k, int64_t n) {
  const auto q = as_decode_queries(q_in, "true_topk_keys");
  methods_detail::check_qk(q.unsqueeze(0), k, "true_topk_keys");
  if (n < 0 || n > k.size(0)) throw Error(msg("true_topk_keys: n must be in [0, ", k.size(0), "], got ", n));
  const auto scores = at::bmm(methods_detail::keys_per_query_head(k, q.size(0)), q.to(at::kFloat).unsqueeze(2)).squeeze(2);
  return std::get<0>(std::get<1>(scores.topk(n, -1)).sort(-1));
}

double selection_iou(const at::Tensor& a_in, const at::Tensor& b_in) {
  const auto a = (a_in.dim() == 1 ? a_in.unsqueeze(0) : a_in).to(at::kLong).cpu().contiguous();
  const auto b = (b_in.dim() == 1 ? b_in.unsqueeze(0) : b_in).to(at::kLong).cpu().contiguous();
  if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(0))
    throw Error(msg("selection_iou: expected selections [H, n] and [H, m] with the same H, got ", a_in.sizes(), " and ",
                    b_in.sizes()));
  const auto A = a.accessor<int64_t, 2>(), B = b.accessor<int64_t, 2>();
  double total = 0;
  for (int64_t r = 0; r < a.size(0); ++r) {
    std::set<int64_t> sa, sb;
    for (int64_t i = 0; i < a.size(1); ++i)
      if (A[r][i] >= 0) sa.insert(A[r][i]);
    for (int64_t i = 0; i < b.size(1); ++i)
      if (B[r][i] >= 0) sb.insert(B[r][i]);
    int64_t inter = 0;
    for (const auto x : sa) inter += sb.count(x);
    const int64_t uni = static_cast<int64_t>(sa.size() + sb.size()) - inter;
    total += uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
  }
  return total / static_cast<double>(a.size(0));
}

}  // namespace jenga::core
