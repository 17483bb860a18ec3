// Block-sparse flash attention against dense causal SDPA on the GPU: forward and forward+backward
// time at several sequence lengths, for random top-k block layouts at densities 10..90%, A-shape
// layouts and the dense causal layout. One JSON line per measurement on stdout (and --out FILE):
//   tflops_block     4 D x (listed blocks x block_q x 64): what the tensor cores multiplied
//   tflops_attended  4 D x attended (query, key) pairs: the useful work
//   tflops_effective 4 D x causal pairs: dense-equivalent, comparable with SDPA's own number
// (forward+backward counts 3.5x the forward's FLOPs, FlashAttention's convention), and the
// speedup over the faster of SDPA with native GQA and SDPA on key/value heads repeated beforehand.
// The forward kernel is the one block_sparse_attention picks (wgmma on Hopper builds for sm_90a);
// JENGA_SPARSE_ATTENTION_KERNEL=mma.sync measures the portable one instead.
//   bench_sparse_attention [--seqs 8192,16384,32768,65536] [--densities 0.1,...,0.9] [--heads 32]
//     [--kv-heads 8] [--dim 128] [--block-q 64] [--iters 5] [--warmup 2] [--a-shape-local 1024,4096]
//     [--no-backward] [--out FILE]
#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/compat.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using jenga::core::LayoutShape;
using jenga::core::SparseLayout;

struct Options {
  std::vector<int64_t> seqs{8192, 16384, 32768, 65536};
  std::vector<double> densities{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  std::vector<int64_t> a_shape_local{1024, 4096};  // local window in tokens (sink: one block)
  int64_t heads = 32, kv_heads = 8, dim = 128, block_q = 64, iters = 5, warmup = 2;
  bool backward = true;
  std::string out;
};

template <typename T>
std::vector<T> parse_list(const std::string& s) {
  std::vector<T> v;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) v.push_back(static_cast<T>(std::stod(part)));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--seqs") o.seqs = parse_list<int64_t>(next());
    else if (a == "--densities") o.densities = parse_list<double>(next());
    else if (a == "--a-shape-local") o.a_shape_local = parse_list<int64_t>(next());
    else if (a == "--heads") o.heads = std::stoll(next());
    else if (a == "--kv-heads") o.kv_heads = std::stoll(next());
    else if (a == "--dim") o.dim = std::stoll(next());
    else if (a == "--block-q") o.block_q = std::stoll(next());
    else if (a == "--iters") o.iters = std::stoll(next());
    else if (a == "--warmup") o.warmup = std::stoll(next());
    else if (a == "--no-backward") o.backward = false;
    else if (a == "--out") o.out = next();
    else throw std::runtime_error("unknown option " + a + " (see the header of sparse_attention.cpp)");
  }
  return o;
}

// Mean milliseconds of fn over `iters` runs after `warmup`, synchronised around the batch.
double time_ms(const std::function<void()>& fn, int64_t iters, int64_t warmup) {
  for (int64_t i = 0; i < warmup; ++i) fn();
  torch::cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iters; ++i) fn();
  torch::cuda::synchronize();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(iters);
}

struct Emitter {
  std::ofstream file;
  void line(const std::string& s) {
    std::cout << s << std::endl;
    if (file.is_open()) file << s << std::endl;
  }
};

std::string num(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  Emitter emit;
  if (!o.out.empty()) emit.file.open(o.out, std::ios::app);
  if (!torch::cuda::is_available()) {
    std::cerr << "bench_sparse_attention: no CUDA device\n";
    return 1;
  }
  at::manual_seed(0);
  const auto dev = at::TensorOptions().device(at::kCUDA);
  const auto opts = dev.dtype(at::kBFloat16);
  const double scale = 1.0 / std::sqrt(static_cast<double>(o.dim));
  const int64_t Hq = o.heads, Hkv = o.kv_heads, D = o.dim;
  std::map<std::pair<int64_t, std::string>, double> dense_ms;  // (S, pass) -> best SDPA ms
  std::map<std::pair<int64_t, std::string>, double> sparse10_ms;

  for (const int64_t S : o.seqs) {
    const auto q = at::randn({S, Hq, D}, opts), k = at::randn({S, Hkv, D}, opts), v = at::randn({S, Hkv, D}, opts);
    const auto dout = at::randn({S, Hq, D}, opts);
    LayoutShape shape;
    shape.heads = Hq;
    shape.seq_q = shape.seq_k = S;
    shape.block_q = o.block_q;
    const double causal_flops = 4.0 * static_cast<double>(D) * static_cast<double>(shape.causal_pairs());
    const std::string head = "{\"bench\":\"sparse_attention\",\"S\":" + std::to_string(S) + ",\"Hq\":" + std::to_string(Hq) +
                             ",\"Hkv\":" + std::to_string(Hkv) + ",\"D\":" + std::to_string(D) + ",\"dtype\":\"bf16\"";

    // Dense SDPA, batch-major [1, H, S, D] contiguous as torch wants it; is_causal.
    const auto qb = q.transpose(0, 1).unsqueeze(0).contiguous(), kb = k.transpose(0, 1).unsqueeze(0).contiguous(),
               vb = v.transpose(0, 1).unsqueeze(0).contiguous(), dob = dout.transpose(0, 1).unsqueeze(0).contiguous();
    const int64_t rep = Hq / Hkv;
    const auto kr = kb.repeat_interleave(rep, 1), vr = vb.repeat_interleave(rep, 1);
    for (const auto& variant : {std::tuple<std::string, at::Tensor, at::Tensor>{"sdpa_gqa", kb, vb}, {"sdpa_mha", kr, vr}}) {
      const auto& [name, kk, vv] = variant;
      const at::Tensor kx = kk, vx = vv;  // lambdas cannot capture structured bindings in C++17
      for (const std::string pass : {"fwd", "fwd_bwd"}) {
        if (pass == "fwd_bwd" && !o.backward) continue;
        double ms = 0;
        if (pass == "fwd") {
          ms = time_ms([&] {
            at::NoGradGuard no_grad;
            (void)jenga::core::compat::scaled_dot_product_attention(qb, kx, vx, true, scale);
          }, o.iters, o.warmup);
        } else {
          auto ql = qb.detach().requires_grad_(true), kl = kx.detach().requires_grad_(true), vl = vx.detach().requires_grad_(true);
          ms = time_ms([&] {
            const auto out = jenga::core::compat::scaled_dot_product_attention(ql, kl, vl, true, scale);
            (void)torch::autograd::grad({out}, {ql, kl, vl}, {dob});
          }, o.iters, o.warmup);
        }
        const double flops = causal_flops * (pass == "fwd" ? 1.0 : 3.5);
        auto& best = dense_ms[{S, pass}];
        best = best == 0 ? ms : std::min(best, ms);
        emit.line(head + ",\"layout\":\"" + name + "\",\"pass\":\"" + pass + "\",\"density\":1,\"ms\":" + num(ms) +
                  ",\"tflops_effective\":" + num(flops / ms * 1e-9) + "}");
      }
    }

    // Our kernels on the layouts (backward: always the mma.sync kernels).
    const std::string kernel = jenga::core::block_sparse_forward_kernel(q);
    std::vector<std::pair<std::string, double>> layouts;  // (kind, parameter)
    for (double d : o.densities) layouts.emplace_back("topk", d);
    for (int64_t w : o.a_shape_local) layouts.emplace_back("a_shape", static_cast<double>(w));
    layouts.emplace_back("dense_causal", 1.0);
    for (const auto& [kind, param] : layouts) {
      SparseLayout L;
      if (kind == "topk") L = jenga::core::topk_fraction_layout(at::rand({Hq, shape.q_blocks(), shape.k_blocks()}, dev), param, shape);
      else if (kind == "a_shape") L = jenga::core::a_shape_layout(shape, 1, static_cast<int64_t>(param) / 64, at::kCUDA);
      else L = jenga::core::dense_causal_layout(shape, at::kCUDA);
      const double density = L.density();
      const double attended = 4.0 * static_cast<double>(D) * static_cast<double>(L.attended_pairs());
      const double block = 4.0 * static_cast<double>(D) * static_cast<double>(L.nnz_blocks()) * static_cast<double>(o.block_q * 64);
      for (const std::string pass : {"fwd", "fwd_bwd"}) {
        if (pass == "fwd_bwd" && !o.backward) continue;
        double ms = 0;
        if (pass == "fwd") {
          ms = time_ms([&] {
            at::NoGradGuard no_grad;
            (void)jenga::core::block_sparse_attention(q, k, v, L, scale);
          }, o.iters, o.warmup);
        } else {
          auto ql = q.detach().requires_grad_(true), kl = k.detach().requires_grad_(true), vl = v.detach().requires_grad_(true);
          ms = time_ms([&] {
            const auto out = jenga::core::block_sparse_attention(ql, kl, vl, L, scale);
            (void)torch::autograd::grad({out}, {ql, kl, vl}, {dout});
          }, o.iters, o.warmup);
        }
        const double f = pass == "fwd" ? 1.0 : 3.5;
        const double speedup = dense_ms[{S, pass}] / ms;
        if (kind == "topk" && std::abs(param - 0.1) < 1e-9) sparse10_ms[{S, pass}] = ms;
        emit.line(head + ",\"layout\":\"" + kind + "\",\"param\":" + num(param) + ",\"block_q\":" + std::to_string(o.block_q) +
                  ",\"forward_kernel\":\"" + kernel + "\"" +
                  ",\"pass\":\"" + pass + "\",\"density\":" + num(density) + ",\"nnz_blocks\":" + std::to_string(L.nnz_blocks()) +
                  ",\"ms\":" + num(ms) + ",\"tflops_block\":" + num(block * f / ms * 1e-9) + ",\"tflops_attended\":" +
                  num(attended * f / ms * 1e-9) + ",\"tflops_effective\":" + num(causal_flops * f / ms * 1e-9) +
                  ",\"speedup_vs_dense\":" + num(speedup) + "}");
      }
    }
  }
  // The goal: at 10% density, >= 5x faster than dense at the longest length measured.
  const int64_t S = o.seqs.back();
  for (const std::string pass : {"fwd", "fwd_bwd"}) {
    const auto it = sparse10_ms.find({S, pass});
    if (it == sparse10_ms.end()) continue;
    const double speedup = dense_ms[{S, pass}] / it->second;
    emit.line("{\"bench\":\"sparse_attention\",\"goal\":\"10% density >= 5x faster than dense SDPA\",\"forward_kernel\":\"" +
              jenga::core::block_sparse_forward_kernel(at::empty({1}, dev)) + "\",\"S\":" + std::to_string(S) +
              ",\"pass\":\"" + pass + "\",\"speedup\":" + num(speedup) + ",\"met\":" + (speedup >= 5.0 ? "true" : "false") + "}");
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_sparse_attention: " << e.what() << "\n";
  return 1;
}
