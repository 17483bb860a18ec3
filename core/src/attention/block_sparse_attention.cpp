#include "jenga/core/attention/block_sparse_attention.hpp"

#include "attention/block_sparse_ops.hpp"
#include "jenga/core/error.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#ifdef JENGA_CUDA_KERNELS
#include "attention/block_sparse_flash.cuh"
#include "kernels/torch_bridge.hpp"

#include <c10/cuda/CUDAGuard.h>
#endif

namespace jenga::core {
namespace {

constexpr const char* kWho = "block_sparse_attention";

void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& L) {
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || k.sizes() != v.sizes() || q.size(2) != k.size(2) || k.size(1) == 0 ||
      q.size(1) % k.size(1) != 0)
    throw Error(msg(kWho, ": expected q [Sq, Hq, D] and k / v [S, Hkv, D] with Hkv dividing Hq; got ", q.sizes(), ", ", k.sizes(),
                    ", ", v.sizes()));
  if (!at::isFloatingType(q.scalar_type()) || k.scalar_type() != q.scalar_type() || v.scalar_type() != q.scalar_type())
    throw Error(msg(kWho, ": q, k, v must share one floating dtype; got ", q.scalar_type(), ", ", k.scalar_type(), ", ",
                    v.scalar_type()));
  if (k.device() != q.device() || v.device() != q.device())
    throw Error(msg(kWho, ": q, k, v are on ", q.device(), ", ", k.device(), ", ", v.device()));
  if (L.heads != q.size(1) || L.seq_q != q.size(0) || L.seq_k != k.size(0))
    throw Error(msg(kWho, ": the layout is for heads ", L.heads, ", seq_q ", L.seq_q, ", seq_k ", L.seq_k, " but q is ", q.sizes(),
                    " and k ", k.sizes()));
  L.check();
  if (!L.block_offsets.defined() || !L.block_indices.defined()) throw Error(msg(kWho, ": the layout has no block lists"));
  if (L.block_offsets.numel() != L.rows() + 1)
    throw Error(msg(kWho, ": block_offsets has ", L.block_offsets.numel(), " entries for ", L.rows(), " rows"));
  if (L.has_columns() && L.column_offsets.numel() != L.rows() + 1)
    throw Error(msg(kWho, ": column_offsets has ", L.column_offsets.numel(), " entries for ", L.rows(), " rows"));
}

// The layout's lists as contiguous int32 on `device`.
SparseLayout lists_on(const SparseLayout& L, c10::Device device) {
  SparseLayout out = L;
  const auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, at::kInt).contiguous() : t; };
  out.block_offsets = move(L.block_offsets);
  out.block_indices = move(L.block_indices);
  out.column_offsets = move(L.column_offsets);
  out.columns = move(L.columns);
  return out;
}

#ifdef JENGA_CUDA_KERNELS
// JENGA_SPARSE_ATTENTION_KERNEL=mma.sync | wgmma | decode: the forward kernel Auto
// means, for benchmarks that compare them (read once; unset: Auto).
FlashPath forced_path() {
  static const FlashPath forced = [] {
    const char* v = std::getenv("JENGA_SPARSE_ATTENTION_KERNEL");
    const std::string s = v == nullptr ? "" : v;
    if (s.empty()) return FlashPath::Auto;
    if (s == "mma.sync") return FlashPath::MmaSync;
    if (s == "wgmma") return FlashPath::Wgmma;
    if (s == "decode") return FlashPath::Decode;
    throw Error(msg("JENGA_SPARSE_ATTENTION_KERNEL='", s, "': expected mma.sync, wgmma or decode"));
  }();
  return forced;
}

// What `path` runs for q: Auto resolved (the decode kernel for one query per head, else wgmma
// where available, else mma.sync).
FlashPath resolve(FlashPath path, const at::Tensor& q) {
  if (path == FlashPath::Auto) path = forced_path();
  if (path == FlashPath::Auto) {
    if (q.size(0) == 1) return FlashPath::Decode;
    return kernels::block_sparse_sm90_ready() ? FlashPath::Wgmma : FlashPath::MmaSync;
  }
  return path;
}

const char* path_name(FlashPath p) {
  switch (p) {
    case FlashPath::MmaSync: return "mma.sync";
    case FlashPath::Wgmma: return "wgmma";
    case FlashPath::Decode: return "decode";
    case FlashPath::Auto: break;
  }
  return "auto";
}

// The kernels read rows of D contiguous elements per head, heads D apart, 16-byte aligned.
at::Tensor rows_ready(const at::Tensor& t) {
  const int64_t D = t.size(2);
  const bool heads_ok = t.size(1) == 1 || t.stride(1) == D;
  const bool rows_ok = t.size(0) == 1 || t.stride(0) % 8 == 0;
  const bool ok = t.stride(2) == 1 && heads_ok && rows_ok && reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 16 == 0;
  return ok ? t : t.contiguous();
}

int64_t row_stride(const at::Tensor& t) { return t.size(0) == 1 ? t.size(1) * t.size(2) : t.stride(0); }

kernels::BlockSparseProblem make_problem(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& L,
                                         double scale) {
  kernels::BlockSparseProblem p;
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.q_stride = row_stride(q);
  p.k_stride = row_stride(k);
  p.v_stride = row_stride(v);
  p.seq_q = static_cast<int>(q.size(0));
  p.seq_k = static_cast<int>(k.size(0));
  p.q_heads = static_cast<int>(q.size(1));
  p.kv_heads = static_cast<int>(k.size(1));
  p.head_dim = static_cast<int>(q.size(2));
  p.block_q = static_cast<int>(L.block_q);
  p.q_blocks = static_cast<int>(L.q_blocks());
  p.k_blocks = static_cast<int>(L.k_blocks());
  p.block_offsets = L.block_offsets.data_ptr<int32_t>();
  // An empty list has no storage; no row reads it, but the kernels want a pointer.
  p.block_indices = L.nnz_blocks() > 0 ? L.block_indices.data_ptr<int32_t>() : p.block_offsets;
  if (L.nnz_columns() > 0) {
    p.column_offsets = L.column_offsets.data_ptr<int32_t>();
    p.columns = L.columns.data_ptr<int32_t>();
  }
  p.scale = static_cast<float>(scale);
  return p;
}
#endif

struct BlockSparseFn : public torch::autograd::Function<BlockSparseFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const SparseLayout& layout, double scale) {
    auto r = block_sparse_flash_forward(q, k, v, layout, scale);
    ctx->save_for_backward({q, k, v, r.out, r.lse});
    ctx->saved_data["shape"] = std::vector<int64_t>{layout.heads, layout.seq_q, layout.seq_k, layout.block_q, layout.block_k};
    ctx->saved_data["block_offsets"] = layout.block_offsets;
    ctx->saved_data["block_indices"] = layout.block_indices;
    if (layout.has_columns()) {
      ctx->saved_data["column_offsets"] = layout.column_offsets;
      ctx->saved_data["columns"] = layout.columns;
    }
    ctx->saved_data["scale"] = scale;
    return r.out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    SparseLayout L;
    const auto shape = ctx->saved_data["shape"].toIntVector();
    L.heads = shape[0];
    L.seq_q = shape[1];
    L.seq_k = shape[2];
    L.block_q = shape[3];
    L.block_k = shape[4];
    L.block_offsets = ctx->saved_data["block_offsets"].toTensor();
    L.block_indices = ctx->saved_data["block_indices"].toTensor();
    if (ctx->saved_data.count("columns") > 0) {
      L.column_offsets = ctx->saved_data["column_offsets"].toTensor();
      L.columns = ctx->saved_data["columns"].toTensor();
    }
    const auto& out = saved[3];
    const auto dout = grads[0].defined() ? grads[0] : at::zeros_like(out);
    auto g = block_sparse_flash_backward(saved[0], saved[1], saved[2], out, saved[4], dout, L,
                                         ctx->saved_data["scale"].toDouble());
    return {g.dq, g.dk, g.dv, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool block_sparse_kernels_apply(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& layout) {
#ifdef JENGA_CUDA_KERNELS
  const auto t = q.scalar_type();
  return q.is_cuda() && q.dim() == 3 && k.dim() == 3 && k.device() == q.device() && v.device() == q.device() &&
         (t == at::kBFloat16 || t == at::kHalf) && k.scalar_type() == t && v.scalar_type() == t &&
         (q.size(2) == 64 || q.size(2) == 128) && layout.block_k == 64 && (layout.block_q == 64 || layout.block_q == 128) &&
         k.size(0) < (int64_t{1} << 30) - 256;
#else
  (void)q, (void)k, (void)v, (void)layout;
  return false;
#endif
}

AttentionWithLse block_sparse_reference_with_lse(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                 const SparseLayout& layout, double scale) {
  check_inputs(q, k, v, layout);
  const auto wide = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const int64_t group = q.size(1) / k.size(1);
  const auto mask = layout_mask(lists_on(layout, q.device()));  // [Hq, Sq, S]
  const auto qh = q.to(wide).transpose(0, 1);                    // [Hq, Sq, D]
  auto kh = k.to(wide).transpose(0, 1), vh = v.to(wide).transpose(0, 1);
  if (group > 1) {
    kh = kh.repeat_interleave(group, 0);
    vh = vh.repeat_interleave(group, 0);
  }
  const auto s = (at::matmul(qh, kh.transpose(1, 2)) * scale).masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
  // Subtract the row max (0 for a row with no key, whose exps are then all 0); its gradient
  // cancels, so it is detached.
  auto mx = at::amax(s, {-1}, /*keepdim=*/true).detach();
  mx = mx.masked_fill(mx.isinf(), 0.0);
  const auto p = at::exp(s - mx);
  const auto l = p.sum(-1, /*keepdim=*/true);
  // l >= 1 wherever a key is attended; clamping only turns 0 / 0 into 0 for empty rows.
  const auto o = at::matmul(p, vh) / l.clamp_min(1.0);
  const auto lse = (mx + at::log(l)).squeeze(-1).masked_fill(l.squeeze(-1).eq(0), std::numeric_limits<double>::infinity());
  return {o.transpose(0, 1).to(q.scalar_type()), lse};
}

at::Tensor block_sparse_attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const SparseLayout& layout, double scale) {
  return block_sparse_reference_with_lse(q, k, v, layout, scale).out;
}

KeyMajorLayout key_major_layout(const SparseLayout& layout, int64_t kv_heads) {
  if (kv_heads <= 0 || layout.heads % kv_heads != 0)
    throw Error(msg(kWho, ": key-major layout needs key heads dividing the layout's ", layout.heads, " heads, got ", kv_heads));
  const auto off = layout.block_offsets.to(at::kLong);
  const int64_t rows = layout.rows(), kb = layout.k_blocks(), group = layout.heads / kv_heads;
  const auto row = at::repeat_interleave(off.slice(0, 1, rows + 1) - off.slice(0, 0, rows));
  const auto key = at::div(row, layout.q_blocks() * group, "floor") * kb + layout.block_indices.to(at::kLong);
  const auto order = (key * rows + row).argsort();  // distinct: by key block, then row
  const auto counts = at::bincount(key, /*weights=*/{}, kv_heads * kb);
  return {at::cat({at::zeros({1}, counts.options()), counts.cumsum(0)}).to(at::kInt),
          row.index_select(0, order).to(at::kInt).contiguous()};
}

bool block_sparse_wgmma_available(const at::Tensor& q) {
#ifdef JENGA_CUDA_KERNELS
  if (!q.is_cuda()) return false;
  const c10::cuda::CUDAGuard guard(q.device());
  return kernels::block_sparse_sm90_ready();
#else
  (void)q;
  return false;
#endif
}

std::string block_sparse_forward_kernel(const at::Tensor& q) {
  if (!q.is_cuda()) return "reference";
#ifdef JENGA_CUDA_KERNELS
  const c10::cuda::CUDAGuard guard(q.device());
  return path_name(resolve(FlashPath::Auto, q));
#else
  return "reference";
#endif
}

AttentionWithLse block_sparse_flash_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const SparseLayout& layout, double scale, FlashPath path) {
  check_inputs(q, k, v, layout);
  if (!block_sparse_kernels_apply(q, k, v, layout))
    throw Error(msg(kWho, ": no CUDA kernel for ", q.scalar_type(), " on ", q.device(), ", head dim ", q.size(2), ", block_q ",
                    layout.block_q, ", block_k ", layout.block_k, " (kernels: CUDA bf16 / fp16, D 64 / 128, block_q 64 / 128, block_k 64)"));
  if (!(scale > 0.0)) throw Error(msg(kWho, ": scale must be positive, got ", scale));
#ifdef JENGA_CUDA_KERNELS
  const c10::cuda::CUDAGuard guard(q.device());
  const auto qc = rows_ready(q), kc = rows_ready(k), vc = rows_ready(v);
  const auto L = lists_on(layout, q.device());
  auto out = at::empty(q.sizes(), q.options());
  auto lse = at::empty({q.size(1), q.size(0)}, q.options().dtype(at::kFloat));
  const FlashPath chosen = resolve(path, q);
  if (chosen == FlashPath::Wgmma && !kernels::block_sparse_sm90_ready())
    throw Error(msg(kWho, ": the ", path_name(chosen), " forward needs compute capability 9.0 and an sm_90a build (device ", q.device(), ")"));
  auto problem = make_problem(qc, kc, vc, L, scale);
  const auto type = kernels::element_type(q, kWho);
  if (chosen == FlashPath::Decode) {
    if (q.size(0) != 1) throw Error(msg(kWho, ": the decode kernel takes one query per head, got q ", q.sizes()));
    const int splits = kernels::block_sparse_decode_splits(problem);
    auto work = at::empty({static_cast<int64_t>(kernels::block_sparse_decode_workspace_floats(problem, splits))},
                          q.options().dtype(at::kFloat));
    kernels::check_cuda(kernels::block_sparse_flash_decode(problem, type, splits, work.data_ptr<float>(), out.data_ptr(),
                                                           lse.data_ptr<float>(), kernels::current_stream()),
                        "block_sparse_attention: decode kernel");
    return {out, lse};
  }
  problem.path = chosen == FlashPath::MmaSync ? 1 : 2;
  kernels::check_cuda(kernels::block_sparse_flash_forward(problem, type, out.data_ptr(), q.size(1) * q.size(2),
                                                          lse.data_ptr<float>(), kernels::current_stream()),
                      "block_sparse_attention: forward kernel");
  return {out, lse};
#else
  (void)path;
  return {};
#endif
}

AttentionGrads block_sparse_flash_backward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out,
                                           const at::Tensor& lse, const at::Tensor& dout, const SparseLayout& layout,
                                           double scale) {
  check_inputs(q, k, v, layout);
  if (!block_sparse_kernels_apply(q, k, v, layout)) throw Error(msg(kWho, ": no CUDA kernel for these inputs (backward)"));
  if (out.sizes() != q.sizes() || dout.sizes() != q.sizes() || dout.scalar_type() != q.scalar_type() ||
      lse.sizes() != at::IntArrayRef{q.size(1), q.size(0)} || lse.scalar_type() != at::kFloat)
    throw Error(msg(kWho, ": backward expects out and dout like q ", q.sizes(), " and fp32 lse [", q.size(1), ", ", q.size(0),
                    "]; got ", out.sizes(), ", ", dout.sizes(), " ", dout.scalar_type(), ", ", lse.sizes(), " ", lse.scalar_type()));
#ifdef JENGA_CUDA_KERNELS
  const c10::cuda::CUDAGuard guard(q.device());
  const auto qc = rows_ready(q), kc = rows_ready(k), vc = rows_ready(v), oc = rows_ready(out), dc = rows_ready(dout);
  const auto L = lists_on(layout, q.device());
  const auto km = key_major_layout(L, k.size(1));
  const auto lse_c = lse.contiguous();
  AttentionGrads r{at::empty(q.sizes(), q.options()), at::empty(k.sizes(), k.options()), at::empty(k.sizes(), k.options())};
  auto delta = at::empty({q.size(1), q.size(0)}, q.options().dtype(at::kFloat));
  at::Tensor dk_columns, dv_columns;
  if (L.nnz_columns() > 0) {
    dk_columns = at::zeros(k.sizes(), k.options().dtype(at::kFloat));
    dv_columns = at::zeros(k.sizes(), k.options().dtype(at::kFloat));
  }
  kernels::BlockSparseBackward g;
  g.out = oc.data_ptr();
  g.dout = dc.data_ptr();
  g.out_stride = row_stride(oc);
  g.dout_stride = row_stride(dc);
  g.lse = lse_c.data_ptr<float>();
  g.delta = delta.data_ptr<float>();
  g.kv_offsets = km.offsets.data_ptr<int32_t>();
  g.kv_rows = L.nnz_blocks() > 0 ? km.rows.data_ptr<int32_t>() : g.kv_offsets;
  g.dq = r.dq.data_ptr();
  g.dk = r.dk.data_ptr();
  g.dv = r.dv.data_ptr();
  if (dk_columns.defined()) {
    g.dk_columns = dk_columns.data_ptr<float>();
    g.dv_columns = dv_columns.data_ptr<float>();
  }
  kernels::check_cuda(kernels::block_sparse_flash_backward(make_problem(qc, kc, vc, L, scale), g, kernels::element_type(q, kWho),
                                                           kernels::current_stream()),
                      "block_sparse_attention: backward kernels");
  return r;
#else
  (void)out, (void)lse, (void)dout, (void)scale;
  return {};
#endif
}

at::Tensor block_sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SparseLayout& layout,
                                  double scale) {
  check_inputs(q, k, v, layout);
  if (!block_sparse_kernels_apply(q, k, v, layout)) return block_sparse_attention_reference(q, k, v, layout, scale);
  return BlockSparseFn::apply(q, k, v, lists_on(layout, q.device()), scale);
}

}  // namespace jenga::core
