// Kept-row movement by block lists: the same values and gradients as index_select / index_add,
// on CPU (the fallback) and, where a GPU exists, through the fused kernels (fp32 and bf16, a
// short last block kept, a middle block dropped).
#include "jenga/core/error.hpp"
#include "sparsity/kept_rows.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

using namespace jenga;

namespace {

// Blocks 0, 2 and 4 of 64 tokens out of S = 300 (block 4 is the short last one).
at::Tensor kept_tokens(const at::Device& dev) {
  return at::cat({at::arange(0, 64, at::kLong), at::arange(128, 192, at::kLong), at::arange(256, 300, at::kLong)}).to(dev);
}

void check(const at::Device& dev, at::ScalarType dtype) {
  at::manual_seed(1);
  const int64_t S = 300, H = 40;
  const auto o = at::TensorOptions().dtype(dtype).device(dev);
  const auto kept = kept_tokens(dev);
  const auto rows = core::kept_rows(kept, 64, S);
  auto x = at::randn({S, H}, o).requires_grad_(true);
  auto w = at::randn({H, H}, o);
  const auto dy = at::randn({S, H}, o);

  // One residual step as the model does it: h = x + scatter(f(gather(x))).
  const auto xs = core::gather_kept_rows(x, rows);
  const auto h = core::add_at_kept_rows(x, rows, at::matmul(xs, w));
  const auto dx = torch::autograd::grad({h}, {x}, {dy})[0];
  const auto xs_ref = x.index_select(0, kept);
  const auto h_ref = x.index_add(0, kept, at::matmul(xs_ref, w));
  const auto dx_ref = torch::autograd::grad({h_ref}, {x}, {dy})[0];
  EXPECT_TRUE(at::equal(xs, xs_ref));
  const double tol = dtype == at::kBFloat16 ? 1e-2 : 1e-5;
  EXPECT_TRUE(at::allclose(h.to(at::kFloat), h_ref.to(at::kFloat), tol, tol));
  EXPECT_TRUE(at::allclose(dx.to(at::kFloat), dx_ref.to(at::kFloat), tol, tol));
}

}  // namespace

TEST(KeptRows, CpuFallbackMatchesIndexOps) { check(at::kCPU, at::kDouble); }

TEST(KeptRows, CudaKernelsMatchIndexOps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  check(at::Device(at::kCUDA, 0), at::kFloat);
  check(at::Device(at::kCUDA, 0), at::kBFloat16);
}
