// Parallel context encoding: segments, position ids, mask / layout, piece selection (parallel_context.hpp).
#include "jenga/core/attention/parallel_context.hpp"

#include "attention/methods/internal.hpp"

#include <algorithm>
#include <limits>

namespace jenga::core::pce {

using methods_detail::longs;

void Spec::check() const {
  const auto where = [&] {
    return msg("parallel context (n_sink ", n_sink, ", context ", context, ", pieces ", pieces, ", suffix ", suffix, ", block ",
               block, ")");
  };
  if (n_sink < 0 || context <= 0 || pieces <= 0 || suffix <= 0 || block <= 0)
    throw Error(msg(where(), ": needs n_sink >= 0 and context, pieces, suffix, block > 0"));
  if (n_sink % block != 0 || context % block != 0)
    throw Error(msg(where(), ": n_sink and context must be multiples of block so that pieces start on block boundaries"));
  if (context / block < pieces)
    throw Error(msg(where(), ": ", context / block, " context blocks cannot make ", pieces, " pieces"));
}

std::vector<int64_t> Spec::piece_lengths() const {
  check();
  const int64_t blocks = context / block;
  std::vector<int64_t> len(pieces);
  for (int64_t i = 0; i < pieces; ++i) len[i] = (blocks / pieces + (i < blocks % pieces ? 1 : 0)) * block;
  return len;
}

std::vector<int64_t> Spec::piece_begins() const {
  const auto len = piece_lengths();
  std::vector<int64_t> begin(pieces);
  int64_t at = n_sink;
  for (int64_t i = 0; i < pieces; ++i) {
    begin[i] = at;
    at += len[i];
  }
  return begin;
}

namespace {

// int64 [total()]: 0 = prefix, 1..P = piece, P + 1 = suffix.
at::Tensor segment_ids(const Spec& s) {
  auto seg = at::zeros({s.total()}, longs());
  const auto begin = s.piece_begins(), len = s.piece_lengths();
  for (int64_t i = 0; i < s.pieces; ++i) seg.narrow(0, begin[i], len[i]).fill_(i + 1);
  seg.narrow(0, s.suffix_begin(), s.suffix).fill_(s.pieces + 1);
  return seg;
}

// bool [heads, P + 2]: the segments the suffix reads (prefix, selected pieces, itself).
at::Tensor suffix_reads(const Spec& s, int64_t heads, const at::Tensor& selected) {
  auto reads = at::ones({heads, s.pieces + 2}, at::TensorOptions().dtype(at::kBool));
  if (!selected.defined()) return reads;
  if (selected.dim() != 2 || selected.size(0) != heads || at::isFloatingType(selected.scalar_type()))
    throw Error(msg("parallel context: expected selected pieces int64 [", heads, ", k], got ", selected.scalar_type(), " ",
                    selected.sizes()));
  const auto sel = selected.cpu().to(at::kLong);
  if (sel.numel() > 0 && (sel.min().item<int64_t>() < 0 || sel.max().item<int64_t>() >= s.pieces))
    throw Error(msg("parallel context: selected pieces must be in [0, ", s.pieces, "), got ", sel));
  reads.narrow(1, 1, s.pieces).fill_(false);
  reads.scatter_(1, sel + 1, true);
  return reads;
}

// bool [heads, n, n] over segment ids of n units (tokens or blocks), causal by unit index.
at::Tensor segment_mask(const Spec& s, const at::Tensor& seg, int64_t heads, const at::Tensor& selected) {
  const int64_t n = seg.numel();
  const auto qs = seg.view({n, 1}), ks = seg.view({1, n});
  const auto same = qs.eq(ks);
  const auto prefix_key = ks.eq(0).expand({n, n});
  const auto suffix_row = qs.eq(s.pieces + 1).expand({n, n});
  // Suffix rows: whether the key's segment is one the head's suffix reads.
  const auto reads = suffix_reads(s, heads, selected);                 // [heads, P + 2]
  const auto read_key = reads.index_select(1, seg).view({heads, 1, n});  // [heads, 1, n]
  auto m = same.logical_or(prefix_key).unsqueeze(0).expand({heads, n, n});
  m = at::where(suffix_row.unsqueeze(0), read_key.expand({heads, n, n}), m);
  return m.logical_and(at::ones({n, n}, at::TensorOptions().dtype(at::kBool)).tril().unsqueeze(0));
}

}  // namespace

at::Tensor position_ids(const Spec& spec) {
  const auto begin = spec.piece_begins(), len = spec.piece_lengths();
  auto pos = at::empty({spec.total()}, longs());
  pos.narrow(0, 0, spec.n_sink).copy_(at::arange(spec.n_sink, longs()));
  for (int64_t i = 0; i < spec.pieces; ++i) pos.narrow(0, begin[i], len[i]).copy_(at::arange(spec.n_sink, spec.n_sink + len[i], longs()));
  const int64_t longest = *std::max_element(len.begin(), len.end());
  pos.narrow(0, spec.suffix_begin(), spec.suffix)
      .copy_(at::arange(spec.n_sink + longest, spec.n_sink + longest + spec.suffix, longs()));
  return pos;
}

at::Tensor attention_mask(const Spec& spec, int64_t heads, const at::Tensor& selected) {
  spec.check();
  if (heads <= 0) throw Error(msg("parallel context: heads must be positive, got ", heads));
  return segment_mask(spec, segment_ids(spec), heads, selected).contiguous();
}

SparseLayout layout(const Spec& spec, int64_t heads, const at::Tensor& selected) {
  spec.check();
  if (heads <= 0) throw Error(msg("parallel context: heads must be positive, got ", heads));
  const auto shape = methods_detail::make_shape(heads, spec.total(), spec.total(), spec.block, spec.block);
  // One segment per block: every boundary but the end is block-aligned; the suffix's ragged last
  // block is still all suffix.
  const auto block_seg = segment_ids(spec).index_select(0, at::arange(shape.k_blocks(), longs()) * spec.block);
  auto L = layout_from_block_mask(segment_mask(spec, block_seg, heads, selected).contiguous(), shape);
  L.validate_built();
  return L;
}

at::Tensor piece_scores(const at::Tensor& q, const at::Tensor& k, const Spec& spec, double scale) {
  methods_detail::check_qk(q, k, "parallel context piece_scores");
  spec.check();
  if (q.size(0) != spec.total() || k.size(0) != spec.total())
    throw Error(msg("parallel context piece_scores: q ", q.sizes(), " and k ", k.sizes(), " must cover the whole sequence of ",
                    spec.total(), " tokens"));
  const int64_t Hq = q.size(1);
  const auto pooled = q.narrow(0, spec.suffix_begin(), spec.suffix).to(at::kFloat).mean(0);  // [Hq, D]
  const auto keys = methods_detail::keys_per_query_head(k, Hq).narrow(1, spec.n_sink, spec.context);  // [Hq, C, D]
  const auto p = at::softmax(at::bmm(keys, pooled.unsqueeze(2)).squeeze(2) * scale, -1);  // [Hq, C]
  const auto piece = (segment_ids(spec).narrow(0, spec.n_sink, spec.context) - 1).to(q.device());
  return at::zeros({Hq, spec.pieces}, p.options()).index_add_(1, piece, p);
}

at::Tensor select_pieces(const at::Tensor& q, const at::Tensor& k, const Spec& spec, int64_t top_k, double scale) {
  spec.check();
  if (top_k < 1 || top_k > spec.pieces)
    throw Error(msg("parallel context select_pieces: top_k must be in [1, ", spec.pieces, "], got ", top_k));
  return std::get<0>(std::get<1>(piece_scores(q, k, spec, scale).topk(top_k, -1)).sort(-1));
}

}  // namespace jenga::core::pce
