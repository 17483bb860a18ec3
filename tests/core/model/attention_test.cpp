// Causal attention, dense and LongLoRA's shifted groups, against an explicit-mask reference in
// double: outputs and input gradients, MHA and GQA, sequences that do and do not divide evenly.
#include "jenga/core/error.hpp"
#include "model/attention.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>

using namespace jenga;

namespace {

// The group a token belongs to in head h of Hq (first half: i/g; second half: borders moved
// by g/2, the first g/2 tokens on their own).
int64_t group_of(int64_t i, int64_t h, int64_t Hq, int64_t g) {
  if (h < Hq / 2) return i / g;
  const int64_t shift = g / 2;
  return i < shift ? -1 : (i - shift) / g;
}

at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale, int64_t groups) {
  const int64_t S = q.size(0), Hq = q.size(1), rep = Hq / k.size(1);
  const int64_t g = groups > 1 ? std::max<int64_t>(2, (S + groups - 1) / groups) : S;
  const auto kk = k.repeat_interleave(rep, 1), vv = v.repeat_interleave(rep, 1);
  auto mask = at::zeros({Hq, S, S}, at::TensorOptions().dtype(at::kBool));
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < S; ++i)
      for (int64_t j = 0; j <= i; ++j)
        if (g >= S || group_of(i, h, Hq, g) == group_of(j, h, Hq, g)) mask[h][i][j] = true;
  auto scores = at::einsum("ihd,jhd->hij", {q, kk}) * scale;
  scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
  return at::einsum("hij,jhd->ihd", {at::softmax(scores, -1), vv});
}

struct Case {
  int64_t S, Hq, Hkv, groups;
};

}  // namespace

class ShiftedAttention : public ::testing::TestWithParam<Case> {};

TEST_P(ShiftedAttention, MatchesMaskedReferenceWithGradients) {
  const auto c = GetParam();
  at::manual_seed(c.S * 7 + c.groups);
  const auto o = at::TensorOptions().dtype(at::kDouble);
  const int64_t D = 8;
  auto q = at::randn({c.S, c.Hq, D}, o).requires_grad_(true);
  auto k = at::randn({c.S, c.Hkv, D}, o).requires_grad_(true);
  auto v = at::randn({c.S, c.Hkv, D}, o).requires_grad_(true);
  const auto dy = at::randn({c.S, c.Hq, D}, o);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));

  const auto y = core::causal_attention(q, k, v, scale, c.groups);
  const auto grads = torch::autograd::grad({y}, {q, k, v}, {dy});
  const auto yr = reference(q, k, v, scale, c.groups);
  const auto gr = torch::autograd::grad({yr}, {q, k, v}, {dy});
  ASSERT_EQ(y.sizes(), yr.sizes());
  EXPECT_TRUE(at::allclose(y, yr, 1e-10, 1e-10));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(at::allclose(grads[i], gr[i], 1e-10, 1e-10)) << "input " << i;
}

INSTANTIATE_TEST_SUITE_P(Sizes, ShiftedAttention,
                         ::testing::Values(Case{16, 4, 4, 1}, Case{16, 4, 4, 4}, Case{16, 4, 2, 4}, Case{19, 4, 2, 4},
                                           Case{37, 8, 2, 8}, Case{12, 4, 4, 3}, Case{5, 4, 2, 8}));

TEST(ShiftedAttentionErrors, OddKeyValueHeadsCannotShift) {
  const auto o = at::TensorOptions().dtype(at::kDouble);
  const auto q = at::randn({16, 3, 8}, o), k = at::randn({16, 1, 8}, o);
  EXPECT_THROW(core::causal_attention(q, k, k, 0.3, 4), core::Error);
  EXPECT_NO_THROW(core::causal_attention(q, k, k, 0.3, 1));
}
