// `attention-bench`: block-sparse attention (core/attention) against dense causal SDPA at one
// sequence length: forward and forward+backward time for random top-k block layouts at each
// density, A-shape layouts and the dense causal layout. Metric records, tags {layout, param,
// density, pass}: attention_ms, speedup_vs_dense (the faster of SDPA with native GQA and with
// key/value heads repeated), tflops_effective (dense-equivalent: 4·D·causal pairs, ×3.5 for
// forward+backward) and, for our layouts, tflops_block / tflops_attended (4·D·multiplied block
// area / attended pairs), tagged also forward_kernel (the one block_sparse_attention picks;
// JENGA_SPARSE_ATTENTION_KERNEL). Summary: speedup_topk10_fwd / _fwd_bwd (the goal:
// >= 5x at 10%).
// Params: seq_len (required), heads (32), kv_heads (8), head_dim (128), dtype (bf16 | fp16 |
// fp32; the CUDA kernels take bf16/fp16), densities ([0.1 .. 0.9]), a_shape_local ([1024, 4096]
// tokens), block_q (64), iters (5), warmup (2), backward (true), seed (0).
#include "task.hpp"

#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/compat.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/train/profiler.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <functional>
#include <map>

namespace jenga::worker {
namespace {

// Mean milliseconds of fn over `iters` runs after `warmup`, timed as one profiler phase.
double time_ms(core::StepProfiler& prof, const std::function<void()>& fn, int64_t iters, int64_t warmup) {
  for (int64_t i = 0; i < warmup; ++i) fn();
  prof.begin_step();
  for (int64_t i = 0; i < iters; ++i) fn();
  prof.end_phase("timed");
  return prof.phase_ms().front().second / static_cast<double>(iters);
}

using Attention = std::function<at::Tensor(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)>;

// One pass of attn timed: "fwd" without autograd, "fwd_bwd" the forward and the gradients of
// q, k, v for upstream gradient dout.
double time_pass(core::StepProfiler& prof, const std::string& pass, const Attention& attn, const at::Tensor& q,
                 const at::Tensor& k, const at::Tensor& v, const at::Tensor& dout, int64_t iters, int64_t warmup) {
  if (pass == "fwd") {
    return time_ms(prof, [&] {
      at::NoGradGuard ng;
      (void)attn(q, k, v);
    }, iters, warmup);
  }
  return time_ms(prof, [&] {
    auto ql = q.detach().requires_grad_(true), kl = k.detach().requires_grad_(true), vl = v.detach().requires_grad_(true);
    (void)torch::autograd::grad({attn(ql, kl, vl)}, {ql, kl, vl}, {dout});
  }, iters, warmup);
}

at::ScalarType dtype_of(const std::string& name) {
  if (name == "bf16") return at::kBFloat16;
  if (name == "fp16") return at::kHalf;
  if (name == "fp32") return at::kFloat;
  throw core::Error(core::msg("attention-bench: dtype must be bf16, fp16 or fp32, got ", name));
}

}  // namespace

Json task_attention_bench(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"seq_len", "heads", "kv_heads", "head_dim", "dtype", "densities", "a_shape_local", "block_q",
                           "iters", "warmup", "backward", "seed"},
                       "attention-bench");
  if (!p.contains("seq_len")) throw core::Error("attention-bench: params.seq_len is required");
  const int64_t S = p["seq_len"].get<int64_t>(), Hq = p.value("heads", int64_t{32}), Hkv = p.value("kv_heads", int64_t{8});
  const int64_t D = p.value("head_dim", int64_t{128}), iters = p.value("iters", int64_t{5}), warmup = p.value("warmup", int64_t{2});
  if (S < 1 || Hq < 1 || Hkv < 1 || Hq % Hkv != 0 || D < 1 || iters < 1 || warmup < 0)
    throw core::Error(core::msg("attention-bench: need seq_len, heads, kv_heads (dividing heads), head_dim, iters >= 1; got S=", S,
                                " Hq=", Hq, " Hkv=", Hkv, " D=", D, " iters=", iters));
  const auto densities = p.value("densities", std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9});
  const auto a_shape_local = p.value("a_shape_local", std::vector<int64_t>{1024, 4096});
  const bool backward = p.value("backward", true);
  const auto device = core::select_device(ctx.device);
  at::manual_seed(p.value("seed", uint64_t{0}));
  const auto opts = at::TensorOptions().device(device).dtype(dtype_of(p.value("dtype", std::string("bf16"))));
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const auto q = at::randn({S, Hq, D}, opts), k = at::randn({S, Hkv, D}, opts), v = at::randn({S, Hkv, D}, opts);
  const auto dout = at::randn({S, Hq, D}, opts);
  core::LayoutShape shape;
  shape.heads = Hq;
  shape.seq_q = shape.seq_k = S;
  shape.block_q = p.value("block_q", int64_t{64});
  shape.check();
  const double causal_flops = 4.0 * static_cast<double>(D) * static_cast<double>(shape.causal_pairs());
  core::StepProfiler prof(device);
  const std::vector<std::string> passes = backward ? std::vector<std::string>{"fwd", "fwd_bwd"} : std::vector<std::string>{"fwd"};
  const std::string forward_kernel = core::block_sparse_forward_kernel(q);
  // Our layouts also get TFLOP/s on the blocks the tensor cores multiply (listed blocks x
  // block_q x 64) and on the attended pairs (the useful work).
  const auto record = [&](const std::string& layout, double param, const core::SparseLayout* L, const std::string& pass, double ms,
                          double dense) {
    const double f = (pass == "fwd" ? 1.0 : 3.5) / ms * 1e-9, d4 = 4.0 * static_cast<double>(D);
    Json tags{{"layout", layout}, {"param", param}, {"density", L ? L->density() : 1.0}, {"pass", pass}};
    if (L) tags["forward_kernel"] = forward_kernel;
    emit(protocol::make_metric("attention_ms", ms, "ms", tags));
    emit(protocol::make_metric("tflops_effective", causal_flops * f, "TFLOP/s", tags));
    if (L) {
      const double blocks = static_cast<double>(L->nnz_blocks()) * static_cast<double>(L->block_q * L->block_k);
      emit(protocol::make_metric("tflops_block", d4 * blocks * f, "TFLOP/s", tags));
      emit(protocol::make_metric("tflops_attended", d4 * static_cast<double>(L->attended_pairs()) * f, "TFLOP/s", tags));
    }
    if (dense > 0) emit(protocol::make_metric("speedup_vs_dense", dense / ms, "x", tags));
  };

  // Dense SDPA, batch-major [1, H, S, D] as torch wants it; native GQA and repeated heads.
  std::map<std::string, double> dense_ms;
  const auto bm = [](const at::Tensor& t) { return t.transpose(0, 1).unsqueeze(0).contiguous(); };
  const auto qb = bm(q), kb = bm(k), vb = bm(v), dob = bm(dout);
  const auto kr = kb.repeat_interleave(Hq / Hkv, 1), vr = vb.repeat_interleave(Hq / Hkv, 1);
  const Attention sdpa = [scale](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return core::compat::scaled_dot_product_attention(q, k, v, true, scale);
  };
  for (const auto& [name, kx, vx] : {std::tuple<std::string, at::Tensor, at::Tensor>{"sdpa_gqa", kb, vb}, {"sdpa_mha", kr, vr}}) {
    for (const auto& pass : passes) {
      const double ms = time_pass(prof, pass, sdpa, qb, kx, vx, dob, iters, warmup);
      record(name, 1.0, nullptr, pass, ms, 0.0);
      auto& best = dense_ms[pass];
      best = best == 0 ? ms : std::min(best, ms);
    }
  }

  std::vector<std::pair<std::string, double>> layouts;
  for (double d : densities) layouts.emplace_back("topk", d);
  for (int64_t w : a_shape_local) layouts.emplace_back("a_shape", static_cast<double>(w));
  layouts.emplace_back("dense_causal", 1.0);
  Json summary{{"sdpa_fwd_ms", dense_ms["fwd"]}, {"kernels", core::block_sparse_kernels_apply(q, k, v, core::dense_causal_layout(shape, device)) ? 1 : 0}};
  for (const auto& [kind, param] : layouts) {
    core::SparseLayout L;
    if (kind == "topk") L = core::topk_fraction_layout(at::rand({Hq, shape.q_blocks(), shape.k_blocks()}, at::TensorOptions().device(device)), param, shape);
    else if (kind == "a_shape") L = core::a_shape_layout(shape, 1, std::max<int64_t>(1, static_cast<int64_t>(param) / shape.block_k), device);
    else L = core::dense_causal_layout(shape, device);
    const Attention ours = [&L, scale](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
      return core::block_sparse_attention(q, k, v, L, scale);
    };
    for (const auto& pass : passes) {
      const double ms = time_pass(prof, pass, ours, q, k, v, dout, iters, warmup);
      record(kind, param, &L, pass, ms, dense_ms[pass]);
      if (kind == "topk" && std::abs(param - 0.1) < 1e-9) summary["speedup_topk10_" + pass] = dense_ms[pass] / ms;
    }
  }
  return summary;
}

}  // namespace jenga::worker
