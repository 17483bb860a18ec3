// MLP channel pruning for backward: the forward is exact at any ratio; ratio 0 gives the exact
// gradient; otherwise the gradient equals the exact one with the dropped channels' da zeroed,
// and the kept channels are the top ones by the documented score.
#include "jenga/core/error.hpp"
#include "sparsity/mlp_prune.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

using namespace jenga;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

struct Mlp {
  at::Tensor x, Wg, Wu, Wd, dy;
};

Mlp make(int64_t S = 9, int64_t H = 6, int64_t I = 20) {
  at::manual_seed(4);
  const auto o = at::TensorOptions().dtype(at::kDouble);
  return {at::randn({S, H}, o), at::randn({I, H}, o), at::randn({I, H}, o), at::randn({H, I}, o), at::randn({S, H}, o)};
}

// Exact SwiGLU backward with da restricted to `mask` channels ([I] of 0/1).
at::Tensor masked_swiglu_grad(const Mlp& m, const at::Tensor& mask) {
  auto x = m.x.clone().requires_grad_(true);
  auto g = at::linear(x, m.Wg), u = at::linear(x, m.Wu);
  auto a = at::silu(g) * u;
  // Pass da through a hook that zeroes the dropped channels.
  a.register_hook([mask](const at::Tensor& da) { return da * mask; });
  auto y = at::linear(a, m.Wd);
  return torch::autograd::grad({y}, {x}, {m.dy})[0];
}

}  // namespace

TEST(MlpPrune, TopChannelsAreTheLargestScoresInOrder) {
  const auto score = at::tensor({0.5, 3.0, 0.1, 2.0, 1.0}, at::kDouble);
  EXPECT_TRUE(at::equal(core::top_channels(score, 0.6), at::tensor({1L, 3L})));
  EXPECT_EQ(core::top_channels(score, 0.0).size(0), 5);
  EXPECT_EQ(core::top_channels(score, 0.99).size(0), 1);  // never zero channels
  EXPECT_THROW(core::top_channels(score, 1.0), core::Error);
  EXPECT_THROW(core::top_channels(score, -0.1), core::Error);
}

TEST(MlpPrune, SwiGluForwardExactAndGradientThroughKeptChannels) {
  const auto m = make();
  for (double ratio : {0.0, 0.5, 0.8}) {
    auto x = m.x.clone().requires_grad_(true);
    auto y = core::pruned_swiglu_mlp(x, m.Wg, m.Wu, m.Wd, ratio);
    const auto exact = at::linear(at::silu(at::linear(m.x, m.Wg)) * at::linear(m.x, m.Wu), m.Wd);
    EXPECT_LT(rel_err(y.detach(), exact), 1e-14) << ratio;
    const auto got = torch::autograd::grad({y}, {x}, {m.dy})[0];
    const auto g = at::linear(m.x, m.Wg), u = at::linear(m.x, m.Wu);
    const auto score = at::linalg_vector_norm(at::silu(g), 2, {0}) + at::linalg_vector_norm(u, 2, {0});
    auto mask = at::zeros({g.size(1)}, at::kDouble);
    mask.index_fill_(0, core::top_channels(score, ratio), 1.0);
    EXPECT_LT(rel_err(got, masked_swiglu_grad(m, mask)), 1e-12) << ratio;
    if (ratio == 0.0) EXPECT_LT(rel_err(got, masked_swiglu_grad(m, at::ones_like(mask))), 1e-12);
  }
}

TEST(MlpPrune, ReluMlpWithBiasesForwardExactAndGradientThroughKeptChannels) {
  const auto m = make();
  const auto b1 = at::randn({m.Wg.size(0)}, at::kDouble), b2 = at::randn({m.x.size(1)}, at::kDouble);
  for (double ratio : {0.0, 0.7}) {
    auto x = m.x.clone().requires_grad_(true);
    auto y = core::pruned_relu_mlp(x, m.Wg, b1, m.Wd, b2, ratio);
    const auto f = at::relu(at::linear(m.x, m.Wg, b1));
    EXPECT_LT(rel_err(y.detach(), at::linear(f, m.Wd, b2)), 1e-14);
    auto mask = at::zeros({f.size(1)}, at::kDouble);
    mask.index_fill_(0, core::top_channels(at::linalg_vector_norm(f, 2, {0}), ratio), 1.0);
    auto xr = m.x.clone().requires_grad_(true);
    auto a = at::relu(at::linear(xr, m.Wg, b1));
    a.register_hook([mask](const at::Tensor& da) { return da * mask; });
    const auto want = torch::autograd::grad({at::linear(a, m.Wd, b2)}, {xr}, {m.dy})[0];
    EXPECT_LT(rel_err(torch::autograd::grad({y}, {x}, {m.dy})[0], want), 1e-12) << ratio;
  }
  // Without biases too (OPT always has them; the function must not need them).
  auto x = m.x.clone().requires_grad_(true);
  EXPECT_NO_THROW(core::pruned_relu_mlp(x, m.Wg, {}, m.Wd, {}, 0.5).sum().backward());
}
