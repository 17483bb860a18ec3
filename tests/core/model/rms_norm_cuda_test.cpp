// The fused RMSNorm kernel against HF's composite formula on the GPU, forward and backward, in
// fp32, fp16 and bf16 (rows of several widths, odd ones included).
#include "model/autograd_ops.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

TEST(RmsNormCuda, FusedKernelMatchesTheComposite) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(0);
  for (int64_t H : {64, 1000, 4096}) {
    for (auto [dtype, tol] : {std::pair{at::kFloat, 1e-5}, {at::kHalf, 2e-3}, {at::kBFloat16, 1e-2}}) {
      const auto opts = at::TensorOptions().device(at::kCUDA).dtype(dtype);
      auto x = (at::randn({37, H}, opts) * 3).requires_grad_(true);
      const auto w = at::randn({H}, opts);
      const auto dy = at::randn({37, H}, opts);
      auto y = jenga::core::rms_norm(x, w, 1e-5);
      const auto dx = torch::autograd::grad({y}, {x}, {dy})[0];
      // HF: w * to_dtype(x_f32 * rsqrt(mean(x_f32²) + eps)), differentiated by autograd in fp32.
      auto xr = x.detach().to(at::kFloat).requires_grad_(true);
      auto yr = w.to(at::kFloat) * (xr * at::rsqrt(xr.pow(2).mean(-1, true) + 1e-5)).to(dtype).to(at::kFloat);
      const auto dxr = torch::autograd::grad({yr}, {xr}, {(dy.to(at::kFloat) * 1.0)})[0];
      const auto rel = [](const at::Tensor& a, const at::Tensor& b) {
        return (a.to(at::kFloat) - b).norm().item<double>() / b.norm().item<double>();
      };
      EXPECT_LT(rel(y.detach(), yr.detach()), tol) << H << " " << dtype;
      EXPECT_LT(rel(dx, dxr), tol * 2) << H << " " << dtype;
    }
  }
}
