// The segmented (fused linear cross-entropy) loss against the dense reference: value and
// d loss/d hidden for every chunking, ignored rows, an incoming gradient scale, bad labels; on a
// GPU, the fused CUDA kernel against the reference formula in each dtype.
#include "jenga/core/error.hpp"
#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

using namespace jenga;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / std::max(1e-30, b.to(at::kDouble).norm().item<double>());
}

struct Case {
  at::Tensor h, W, labels;
};

Case make_case(int64_t S, int64_t H, int64_t V, at::TensorOptions o) {
  at::manual_seed(1);
  Case c{at::randn({S, H}, o.dtype(at::kDouble)), at::randn({V, H}, o.dtype(at::kDouble)), at::randint(V, {S}, o.dtype(at::kLong))};
  c.labels[S / 7] = core::kIgnoreIndex;
  c.labels[S - 1] = core::kIgnoreIndex;
  return c;
}

}  // namespace

TEST(Loss, SegmentedEqualsDenseForEveryChunking) {
  auto c = make_case(37, 16, 50, {});
  auto h = c.h.clone().requires_grad_(true);
  auto dense = core::dense_lm_loss(h, c.W, c.labels);
  auto gd = torch::autograd::grad({dense}, {h})[0];
  for (int64_t chunk : {1, 8, 37, 100}) {
    auto seg = core::segmented_lm_loss(h, c.W, c.labels, chunk);
    EXPECT_NEAR(seg.item<double>(), dense.item<double>(), 1e-12) << chunk;
    EXPECT_LT(rel_err(torch::autograd::grad({seg}, {h})[0], gd), 1e-12) << chunk;
  }
}

TEST(Loss, IncomingGradientScalesTheResult) {
  auto c = make_case(20, 8, 30, {});
  auto h = c.h.clone().requires_grad_(true);
  auto g1 = torch::autograd::grad({core::segmented_lm_loss(h, c.W, c.labels, 6)}, {h})[0];
  auto g3 = torch::autograd::grad({core::segmented_lm_loss(h, c.W, c.labels, 6) * 3.0}, {h})[0];
  EXPECT_LT(rel_err(g3, g1 * 3.0), 1e-14);
}

TEST(Loss, WithoutGradOnlyTheValue) {
  auto c = make_case(20, 8, 30, {});
  const double with_grad = core::segmented_lm_loss(c.h.clone().requires_grad_(true), c.W, c.labels, 4).item<double>();
  at::NoGradGuard ng;
  EXPECT_NEAR(core::segmented_lm_loss(c.h, c.W, c.labels, 4).item<double>(), with_grad, 1e-14);
}

TEST(Loss, AllIgnoredIsZeroWithZeroGradient) {
  auto c = make_case(10, 8, 30, {});
  auto h = c.h.clone().requires_grad_(true);
  auto loss = core::segmented_lm_loss(h, c.W, at::full({10}, core::kIgnoreIndex, at::kLong), 4);
  EXPECT_EQ(loss.item<double>(), 0.0);
  EXPECT_EQ(torch::autograd::grad({loss}, {h})[0].abs().sum().item<double>(), 0.0);
}

TEST(Loss, BadShapesAndLabelsAreErrors) {
  auto c = make_case(10, 8, 30, {});
  EXPECT_THROW(core::segmented_lm_loss(c.h, c.W, c.labels.narrow(0, 0, 5)), core::Error);
  EXPECT_THROW(core::segmented_lm_loss(c.h, c.W, c.labels, 0), core::Error);
  auto bad = c.labels.clone();
  bad[2] = 30;
  EXPECT_THROW(core::segmented_lm_loss(c.h, c.W, bad), core::Error);
  bad[2] = -3;
  EXPECT_THROW(core::segmented_lm_loss(c.h, c.W, bad), core::Error);
}

TEST(Loss, FusedCudaKernelMatchesTheReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  // Sizes around the kernel's block width (512), a large vocabulary with one valid row.
  for (auto [S, H, V] : {std::tuple<int64_t, int64_t, int64_t>{37, 64, 50}, {64, 128, 511}, {9, 64, 32000}, {3, 32, 128256}}) {
    auto c = make_case(S, H, V, at::TensorOptions().device(at::kCUDA));
    for (auto [dtype, tol] : {std::pair{at::kFloat, 1e-5}, {at::kBFloat16, 2e-2}, {at::kHalf, 5e-3}}) {
      // Scale so half-precision logits stay in range and the softmax is not one-hot.
      auto h = (c.h * 0.05).to(dtype).requires_grad_(true);
      auto W = c.W.to(dtype);
      auto hd = (c.h * 0.05).requires_grad_(true);
      auto dense = core::dense_lm_loss(hd, c.W, c.labels);
      auto gd = torch::autograd::grad({dense}, {hd})[0];
      auto seg = core::segmented_lm_loss(h, W, c.labels, 16);
      EXPECT_NEAR(seg.item<double>(), dense.item<double>(), tol * std::abs(dense.item<double>())) << S << " " << V << " " << dtype;
      EXPECT_LT(rel_err(torch::autograd::grad({seg}, {h})[0], gd), tol * 5) << S << " " << V << " " << dtype;
    }
  }
}
