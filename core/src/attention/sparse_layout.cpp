#include "jenga/core/attention/sparse_layout.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>

namespace jenga::core {
namespace {

std::string describe(const LayoutShape& s) {
  return msg("sparse layout (heads ", s.heads, ", seq_q ", s.seq_q, ", seq_k ", s.seq_k, ", block_q ", s.block_q, ", block_k ",
             s.block_k, ")");
}

at::TensorOptions longs(c10::Device d) { return at::TensorOptions().dtype(at::kLong).device(d); }

// [q_blocks] int64: the last key block that query block b can see (its last query's block).
at::Tensor last_visible_block(const LayoutShape& s, c10::Device d) {
  const auto b = at::arange(s.q_blocks(), longs(d));
  const auto last = at::clamp_max((b + 1) * s.block_q, s.seq_q) - 1 + s.q_offset();
  return at::div(last, s.block_k, "floor");
}

// [q_blocks] int64: the key block of query block b's first query.
at::Tensor first_diagonal_block(const LayoutShape& s, c10::Device d) {
  return at::div(at::arange(s.q_blocks(), longs(d)) * s.block_q + s.q_offset(), s.block_k, "floor");
}

// bool [1, q_blocks, k_blocks]: blocks not wholly after the row's last query.
at::Tensor visible_blocks(const LayoutShape& s, c10::Device d) {
  const auto j = at::arange(s.k_blocks(), longs(d)).view({1, 1, -1});
  return j.le(last_visible_block(s, d).view({1, -1, 1}));
}

// bool [1, q_blocks, k_blocks]: the key blocks overlapping the row's own queries.
at::Tensor diagonal_blocks(const LayoutShape& s, c10::Device d) {
  const auto j = at::arange(s.k_blocks(), longs(d)).view({1, 1, -1});
  return j.ge(first_diagonal_block(s, d).view({1, -1, 1})).logical_and(j.le(last_visible_block(s, d).view({1, -1, 1})));
}

// int64 [entries]: the row of each entry of a CSR list.
at::Tensor row_of_entries(const at::Tensor& offsets) {
  const auto o = offsets.to(at::kLong);
  const int64_t rows = o.numel() - 1;
  return at::repeat_interleave(o.slice(0, 1, rows + 1) - o.slice(0, 0, rows));
}

// int32 [rows + 1] offsets from per-row counts.
at::Tensor offsets_from_counts(const at::Tensor& counts) {
  const auto c = counts.reshape({-1}).to(at::kLong);
  return at::cat({at::zeros({1}, c.options()), c.cumsum(0)}).to(at::kInt);
}

// bool [heads, q_blocks, k_blocks]: the listed blocks.
at::Tensor listed_blocks(const SparseLayout& L) {
  const auto d = L.block_offsets.device();
  auto m = at::zeros({L.rows() * L.k_blocks()}, at::TensorOptions().dtype(at::kBool).device(d));
  if (L.nnz_blocks() > 0) m.index_fill_(0, row_of_entries(L.block_offsets) * L.k_blocks() + L.block_indices.to(at::kLong), true);
  return m.view({L.heads, L.q_blocks(), L.k_blocks()});
}

void check_list(const SparseLayout& L, const at::Tensor& t, const char* name, int64_t size) {
  if (!t.defined()) throw Error(msg(describe(L), ": ", name, " is missing"));
  if (t.scalar_type() != at::kInt || t.dim() != 1)
    throw Error(msg(describe(L), ": ", name, " must be a 1-D int32 tensor, got ", t.scalar_type(), " ", t.sizes()));
  if (size >= 0 && t.numel() != size)
    throw Error(msg(describe(L), ": ", name, " has ", t.numel(), " entries, expected ", size, " (rows + 1)"));
  if (t.device() != L.block_offsets.device())
    throw Error(msg(describe(L), ": ", name, " is on ", t.device(), ", block_offsets on ", L.block_offsets.device()));
}

// Offsets of a CSR list: start at 0, never decrease, end at the list's length.
void check_offsets(const SparseLayout& L, const at::Tensor& off, const char* name, int64_t entries) {
  const auto o = off.accessor<int32_t, 1>();
  if (o[0] != 0) throw Error(msg(describe(L), ": ", name, "[0] is ", o[0], ", expected 0"));
  for (int64_t r = 0; r < L.rows(); ++r)
    if (o[r + 1] < o[r]) throw Error(msg(describe(L), ": ", name, " decrease at row ", r, " (", o[r], " -> ", o[r + 1], ")"));
  if (o[L.rows()] != entries)
    throw Error(msg(describe(L), ": ", name, " end at ", o[L.rows()], " but the list has ", entries, " entries"));
}

SparseLayout from_mask_unchecked(const at::Tensor& mask, const LayoutShape& shape) {
  SparseLayout L;
  static_cast<LayoutShape&>(L) = shape;
  const auto nz = mask.nonzero();  // row-major: ascending key block within each row
  if (nz.size(0) >= std::numeric_limits<int32_t>::max())
    throw Error(msg(describe(shape), ": ", nz.size(0), " listed blocks do not fit int32 offsets"));
  L.block_indices = nz.select(1, 2).to(at::kInt).contiguous();
  L.block_offsets = offsets_from_counts(mask.sum(-1));
  return L;
}

// Sum over x in (-inf, X] of clamp(x, 0, len): queries up to x - 1 past a block's start see
// clamp(x, 0, len) of its keys. Element-wise, int64.
at::Tensor clamped_prefix_sum(const at::Tensor& X, const at::Tensor& len) {
  const auto x = X.clamp_min(0);
  const auto inside = x * (x + 1) / 2;
  const auto beyond = len * (len + 1) / 2 + (x - len) * len;
  return at::where(x.le(len), inside, beyond);
}

// The invariants readable from tensor metadata alone: no device sync.
void check_metadata(const SparseLayout& L) {
  L.check();
  if (!L.block_offsets.defined()) throw Error(msg(describe(L), ": block_offsets is missing"));
  check_list(L, L.block_offsets, "block_offsets", L.rows() + 1);
  check_list(L, L.block_indices, "block_indices", -1);
  if (L.column_offsets.defined() != L.columns.defined())
    throw Error(msg(describe(L), ": column_offsets and columns come together (one is undefined)"));
  if (L.has_columns()) {
    check_list(L, L.column_offsets, "column_offsets", L.rows() + 1);
    check_list(L, L.columns, "columns", -1);
  }
}

}  // namespace

int64_t LayoutShape::last_position(int64_t b) const { return q_offset() + std::min((b + 1) * block_q, seq_q) - 1; }

int64_t LayoutShape::causal_pairs() const { return heads * (seq_q * (q_offset() + 1) + seq_q * (seq_q - 1) / 2); }

void LayoutShape::check() const {
  if (heads <= 0 || seq_q <= 0 || seq_k < seq_q || block_q <= 0 || block_k <= 0)
    throw Error(msg(describe(*this), ": heads, seq_q and block sizes must be positive and seq_q <= seq_k"));
  if (seq_k >= std::numeric_limits<int32_t>::max()) throw Error(msg(describe(*this), ": seq_k does not fit int32 positions"));
}

SparseLayout SparseLayout::to(c10::Device device) const {
  SparseLayout L = *this;
  const auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device) : t; };
  L.block_offsets = move(block_offsets);
  L.block_indices = move(block_indices);
  L.column_offsets = move(column_offsets);
  L.columns = move(columns);
  return L;
}

void SparseLayout::validate() const {
  check_metadata(*this);
  const auto bo_t = block_offsets.cpu().contiguous(), bi_t = block_indices.cpu().contiguous();
  check_offsets(*this, bo_t, "block_offsets", bi_t.numel());
  const auto bo = bo_t.accessor<int32_t, 1>();
  const auto bi = bi_t.accessor<int32_t, 1>();
  const auto where = [&](int64_t r) {
    return msg("row ", r, " (head ", r / q_blocks(), ", query block ", r % q_blocks(), ", last query at key position ",
               last_position(r % q_blocks()), ")");
  };
  for (int64_t r = 0; r < rows(); ++r) {
    const int64_t last_block = last_position(r % q_blocks()) / block_k;
    for (int64_t e = bo[r]; e < bo[r + 1]; ++e) {
      const int64_t j = bi[e];
      if (j < 0 || j >= k_blocks())
        throw Error(msg(describe(*this), ": ", where(r), " lists key block ", j, ", outside [0, ", k_blocks(), ")"));
      if (e > bo[r] && j <= bi[e - 1])
        throw Error(msg(describe(*this), ": ", where(r), " lists key block ", j, " after ", bi[e - 1], " (blocks must strictly ascend)"));
      if (j > last_block)
        throw Error(msg(describe(*this), ": ", where(r), " lists key block ", j, " (keys from ", j * block_k,
                        "), which is wholly after its last query (non-causal)"));
    }
  }
  if (!has_columns()) return;
  const auto co_t = column_offsets.cpu().contiguous(), ci_t = columns.cpu().contiguous();
  check_offsets(*this, co_t, "column_offsets", ci_t.numel());
  const auto co = co_t.accessor<int32_t, 1>();
  const auto ci = ci_t.accessor<int32_t, 1>();
  for (int64_t r = 0; r < rows(); ++r) {
    const int64_t last = last_position(r % q_blocks());
    for (int64_t e = co[r]; e < co[r + 1]; ++e) {
      const int64_t c = ci[e];
      if (c < 0 || c >= seq_k) throw Error(msg(describe(*this), ": ", where(r), " lists column ", c, ", outside [0, ", seq_k, ")"));
      if (e > co[r] && c <= ci[e - 1])
        throw Error(msg(describe(*this), ": ", where(r), " lists column ", c, " after ", ci[e - 1], " (columns must strictly ascend)"));
      if (c > last) throw Error(msg(describe(*this), ": ", where(r), " lists column ", c, ", after its last query (non-causal)"));
      if (std::binary_search(&bi[bo[r]], &bi[bo[r]] + (bo[r + 1] - bo[r]), static_cast<int32_t>(c / block_k)))
        throw Error(msg(describe(*this), ": ", where(r), " lists column ", c, " inside its listed key block ", c / block_k,
                        " (it would count twice)"));
    }
  }
}

void SparseLayout::validate_built() const {
  static const bool always = [] {
    const char* v = std::getenv("JENGA_CHECK_LAYOUTS");
    return v != nullptr && std::string(v) == "1";
  }();
  if (always || !block_offsets.defined() || block_offsets.device().is_cpu()) {
    validate();
  } else {
    check_metadata(*this);
  }
}

int64_t SparseLayout::attended_pairs() const {
  int64_t total = 0;
  const auto qb = [&](const at::Tensor& offsets) { return row_of_entries(offsets).remainder(q_blocks()); };
  if (nnz_blocks() > 0) {
    const auto b = qb(block_offsets);
    const auto p0 = b * block_q + q_offset();
    const auto p1 = at::clamp_max((b + 1) * block_q, seq_q) - 1 + q_offset();
    const auto ks = block_indices.to(at::kLong) * block_k;
    const auto len = at::clamp_max(ks + block_k, seq_k) - ks;
    total += (clamped_prefix_sum(p1 - ks + 1, len) - clamped_prefix_sum(p0 - ks, len)).sum().item<int64_t>();
  }
  if (nnz_columns() > 0) {
    const auto b = qb(column_offsets);
    const auto p0 = b * block_q + q_offset();
    const auto p1 = at::clamp_max((b + 1) * block_q, seq_q) - 1 + q_offset();
    const auto seen = at::minimum(at::clamp_min(p1 - columns.to(at::kLong) + 1, 0), p1 - p0 + 1);
    total += seen.sum().item<int64_t>();
  }
  return total;
}

double SparseLayout::density() const {
  return static_cast<double>(attended_pairs()) / static_cast<double>(causal_pairs());
}

SparseLayout dense_causal_layout(const LayoutShape& shape, c10::Device device) {
  shape.check();
  return from_mask_unchecked(visible_blocks(shape, device).expand({shape.heads, shape.q_blocks(), shape.k_blocks()}), shape);
}

SparseLayout a_shape_layout(const LayoutShape& shape, int64_t sink_blocks, int64_t local_blocks, c10::Device device) {
  shape.check();
  if (sink_blocks < 0 || local_blocks < 0)
    throw Error(msg(describe(shape), ": A-shape needs sink_blocks and local_blocks >= 0, got ", sink_blocks, " and ", local_blocks));
  const auto j = at::arange(shape.k_blocks(), longs(device)).view({1, 1, -1});
  const auto window_start = first_diagonal_block(shape, device).view({1, -1, 1}) - (local_blocks - 1);
  auto keep = j.lt(sink_blocks);
  if (local_blocks > 0) keep = keep.logical_or(j.ge(window_start));
  const auto mask = keep.logical_and(visible_blocks(shape, device));
  return from_mask_unchecked(mask.expand({shape.heads, shape.q_blocks(), shape.k_blocks()}), shape);
}

SparseLayout layout_from_block_mask(const at::Tensor& mask, const LayoutShape& shape) {
  shape.check();
  if (mask.scalar_type() != at::kBool || mask.dim() != 3 || mask.size(0) != shape.heads || mask.size(1) != shape.q_blocks() ||
      mask.size(2) != shape.k_blocks())
    throw Error(msg(describe(shape), ": expected a bool block mask [", shape.heads, ", ", shape.q_blocks(), ", ", shape.k_blocks(),
                    "], got ", mask.scalar_type(), " ", mask.sizes()));
  const auto bad = mask.logical_and(visible_blocks(shape, mask.device()).logical_not());
  if (bad.any().item<bool>()) {
    const auto first = bad.nonzero()[0].cpu();
    const int64_t h = first[0].item<int64_t>(), b = first[1].item<int64_t>(), j = first[2].item<int64_t>();
    throw Error(msg(describe(shape), ": the block mask marks key block ", j, " (keys from ", j * shape.block_k, ") for head ", h,
                    ", query block ", b, ", whose last query is at key position ", shape.last_position(b),
                    " (non-causal)"));
  }
  return from_mask_unchecked(mask, shape);
}

namespace {

SparseLayout topk_by_row(const at::Tensor& scores, const LayoutShape& shape, bool keep_diagonal,
                         const std::function<at::Tensor(const at::Tensor&)>& keep_count) {
  shape.check();
  if (scores.dim() != 3 || scores.size(0) != shape.heads || scores.size(1) != shape.q_blocks() ||
      scores.size(2) != shape.k_blocks() || !at::isFloatingType(scores.scalar_type()))
    throw Error(msg(describe(shape), ": expected float block scores [", shape.heads, ", ", shape.q_blocks(), ", ",
                    shape.k_blocks(), "], got ", scores.scalar_type(), " ", scores.sizes()));
  const auto d = scores.device();
  const auto visible = visible_blocks(shape, d);
  const auto diagonal = diagonal_blocks(shape, d);
  auto s = scores.to(at::kFloat).masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity());
  if (keep_diagonal) s = s.masked_fill(diagonal, std::numeric_limits<float>::infinity());
  const auto order = s.argsort(-1, /*descending=*/true);
  const auto rank = at::empty_like(order).scatter_(-1, order, at::arange(shape.k_blocks(), longs(d)).expand_as(order));
  auto mask = rank.lt(keep_count(visible.sum(-1, /*keepdim=*/true))).logical_and(visible);
  if (keep_diagonal) mask = mask.logical_or(diagonal);
  return from_mask_unchecked(mask, shape);
}

}  // namespace

SparseLayout topk_layout(const at::Tensor& scores, int64_t k, const LayoutShape& shape, bool keep_diagonal) {
  if (k < 0) throw Error(msg(describe(shape), ": top-k needs k >= 0, got ", k));
  return topk_by_row(scores, shape, keep_diagonal, [k](const at::Tensor& visible) { return visible.clamp_max(k); });
}

SparseLayout topk_fraction_layout(const at::Tensor& scores, double fraction, const LayoutShape& shape, bool keep_diagonal) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) throw Error(msg(describe(shape), ": top-k fraction must be in [0, 1], got ", fraction));
  return topk_by_row(scores, shape, keep_diagonal,
                     [fraction](const at::Tensor& visible) { return at::ceil(visible.to(at::kDouble) * fraction).to(at::kLong); });
}

SparseLayout with_columns(const SparseLayout& layout, const at::Tensor& columns) {
  layout.check();
  if (columns.dim() != 2 || columns.size(0) != layout.heads || at::isFloatingType(columns.scalar_type()))
    throw Error(msg(describe(layout), ": expected integer columns [", layout.heads, ", n], got ", columns.scalar_type(), " ",
                    columns.sizes()));
  const auto d = layout.block_offsets.device();
  const int64_t n = columns.size(1);
  const auto sorted = std::get<0>(columns.to(d).to(at::kLong).sort(-1));
  auto repeat = at::zeros_like(sorted, sorted.options().dtype(at::kBool));
  if (n > 1) repeat.slice(1, 1, n).copy_(sorted.slice(1, 1, n).eq(sorted.slice(1, 0, n - 1)));
  const auto cand = sorted.unsqueeze(1).expand({layout.heads, layout.q_blocks(), n});
  const auto last = (at::clamp_max((at::arange(layout.q_blocks(), longs(d)) + 1) * layout.block_q, layout.seq_q) - 1 +
                     layout.q_offset()).view({1, -1, 1});
  const auto block_of = at::div(cand.clamp(0, layout.seq_k - 1), layout.block_k, "floor");
  const auto listed = listed_blocks(layout).gather(2, block_of);
  const auto keep = cand.ge(0).logical_and(cand.le(last)).logical_and(repeat.unsqueeze(1).logical_not()).logical_and(
      listed.logical_not());
  SparseLayout L = layout;
  L.columns = cand.masked_select(keep).to(at::kInt).contiguous();
  L.column_offsets = offsets_from_counts(keep.sum(-1));
  return L;
}

at::Tensor layout_mask(const SparseLayout& L) {
  L.check();
  const auto d = L.block_offsets.device();
  auto mask = listed_blocks(L)
                  .repeat_interleave(L.block_q, 1)
                  .repeat_interleave(L.block_k, 2)
                  .narrow(1, 0, L.seq_q)
                  .narrow(2, 0, L.seq_k);
  if (L.nnz_columns() > 0) {
    auto cols = at::zeros({L.rows() * L.seq_k}, at::TensorOptions().dtype(at::kBool).device(d));
    cols.index_fill_(0, row_of_entries(L.column_offsets) * L.seq_k + L.columns.to(at::kLong), true);
    mask = mask.logical_or(cols.view({L.heads, L.q_blocks(), L.seq_k}).repeat_interleave(L.block_q, 1).narrow(1, 0, L.seq_q));
  }
  const auto causal = at::ones({L.seq_q, L.seq_k}, at::TensorOptions().dtype(at::kBool).device(d)).tril(L.q_offset());
  return mask.logical_and(causal);
}

}  // namespace jenga::core
