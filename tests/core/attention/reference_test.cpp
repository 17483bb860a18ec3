// The reference block-sparse attention (CPU): against a per-query loop that walks the lists
// itself, against dense SDPA when the layout is dense causal (values and gradients), against
// finite differences on a sparse layout with columns; empty rows; the CPU dispatch.
#include "attention/block_sparse_ops.hpp"
#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/compat.hpp"
#include "jenga/core/error.hpp"
#include "layouts.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace jenga;

namespace {

using test::layout_shape;

// By definition, one query at a time, in double: the keys of the query's row (blocks, then
// columns) that are not after it; softmax over them; 0 and lse = +inf when there are none.
core::AttentionWithLse by_loop(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const core::SparseLayout& L,
                               double scale) {
  const int64_t Sq = q.size(0), S = k.size(0), Hq = q.size(1), D = q.size(2), group = Hq / k.size(1);
  const auto qa = q.to(at::kDouble), ka = k.to(at::kDouble), va = v.to(at::kDouble);
  auto out = at::zeros({Sq, Hq, D}, at::kDouble);
  auto lse = at::full({Hq, Sq}, std::numeric_limits<double>::infinity(), at::kDouble);
  const auto blocks = test::lists(L.block_offsets, L.block_indices);
  const auto cols = L.has_columns() ? test::lists(L.column_offsets, L.columns) : std::vector<std::vector<int32_t>>(blocks.size());
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < Sq; ++i) {
      const size_t row = static_cast<size_t>(h * L.q_blocks() + i / L.block_q);
      const int64_t pos = S - Sq + i;
      std::vector<int64_t> keys;
      for (int32_t j : blocks[row])
        for (int64_t c = j * L.block_k; c < std::min(S, (j + 1) * L.block_k); ++c)
          if (c <= pos) keys.push_back(c);
      for (int32_t c : cols[row])
        if (c <= pos) keys.push_back(c);
      if (keys.empty()) continue;
      std::vector<double> s;
      for (int64_t c : keys) s.push_back(scale * at::dot(qa[i][h], ka[c][h / group]).item<double>());
      const double m = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (double x : s) sum += std::exp(x - m);
      auto o = at::zeros({D}, at::kDouble);
      for (size_t n = 0; n < keys.size(); ++n) o += std::exp(s[n] - m) / sum * va[keys[n]][h / group];
      out[i][h] = o;
      lse[h][i] = m + std::log(sum);
    }
  return {out, lse};
}

at::Tensor sdpa_token_major(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  return core::compat::scaled_dot_product_attention(q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0),
                                                    v.transpose(0, 1).unsqueeze(0), /*causal=*/true, scale)
      .squeeze(0)
      .transpose(0, 1);
}

}  // namespace

TEST(BlockSparseReference, MatchesThePerQueryLoop) {
  at::manual_seed(3);
  // (Sq, S, block_q): whole sequences, ragged ones, a pre-fill chunk, a decode step.
  for (auto [sq, sk, bq] : {std::tuple<int64_t, int64_t, int64_t>{150, 150, 64}, {150, 150, 128}, {70, 201, 64}, {1, 130, 64}}) {
    const auto s = layout_shape(4, sq, sk, bq, 64);
    for (int64_t columns : {0, 9}) {
      const auto L = test::random_layout(s, 0.4, columns, /*keep_diagonal=*/false);
      const auto q = at::randn({sq, 4, 8}, at::kDouble), k = at::randn({sk, 2, 8}, at::kDouble), v = at::randn({sk, 2, 8}, at::kDouble);
      const auto got = core::block_sparse_reference_with_lse(q, k, v, L, 0.3);
      const auto want = by_loop(q, k, v, L, 0.3);
      SCOPED_TRACE(::testing::Message() << "Sq " << sq << " S " << sk << " block_q " << bq << " columns " << columns);
      EXPECT_LT(test::diff(got.out, want.out).max_abs, 1e-12) << test::diff(got.out, want.out).str();
      // lse: equal where finite, +inf exactly where the loop found no key.
      EXPECT_TRUE(at::equal(got.lse.isinf(), want.lse.isinf()));
      const auto finite = want.lse.isfinite();
      EXPECT_LT((got.lse.masked_select(finite) - want.lse.masked_select(finite)).abs().max().item<double>(), 1e-12);
    }
  }
}

TEST(BlockSparseReference, DenseCausalLayoutIsDenseCausalAttention) {
  at::manual_seed(4);
  // Sq < S: the last Sq queries of a whole sequence, so SDPA runs on the whole sequence (its
  // causal mask for Sq != S is aligned differently across torch versions) and is cut after.
  for (auto [sq, sk] : {std::pair<int64_t, int64_t>{150, 150}, {40, 150}}) {
    const auto L = core::dense_causal_layout(layout_shape(4, sq, sk));
    const auto prefix = at::randn({sk - sq, 4, 16}, at::kDouble);
    auto q = at::randn({sq, 4, 16}, at::kDouble).requires_grad_(true);
    auto k = at::randn({sk, 2, 16}, at::kDouble).requires_grad_(true);
    auto v = at::randn({sk, 2, 16}, at::kDouble).requires_grad_(true);
    const auto dout = at::randn({sq, 4, 16}, at::kDouble);
    const auto got = core::block_sparse_attention_reference(q, k, v, L, 0.25);
    const auto want = sdpa_token_major(at::cat({prefix, q}), k, v, 0.25).narrow(0, sk - sq, sq);
    EXPECT_LT(test::diff(got, want).max_abs, 1e-12) << test::diff(got, want).str();
    const auto g1 = torch::autograd::grad({got}, {q, k, v}, {dout});
    const auto g2 = torch::autograd::grad({want}, {q, k, v}, {dout});
    for (size_t i = 0; i < 3; ++i) EXPECT_LT(test::diff(g1[i], g2[i]).max_abs, 1e-10) << "grad " << i << ": " << test::diff(g1[i], g2[i]).str();
  }
}

TEST(BlockSparseReference, GradientsMatchFiniteDifferences) {
  at::manual_seed(5);
  const auto s = layout_shape(2, 20, 33, 8, 8);  // small blocks keep the tensors tiny and the lists varied
  const auto L = test::random_layout(s, 0.5, /*columns_per_head=*/6);
  const auto q0 = at::randn({20, 2, 4}, at::kDouble), k0 = at::randn({33, 1, 4}, at::kDouble), v0 = at::randn({33, 1, 4}, at::kDouble);
  const auto w = at::randn({20, 2, 4}, at::kDouble);  // loss = sum(out * w)
  auto q = q0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true), v = v0.clone().requires_grad_(true);
  const auto loss = (core::block_sparse_attention_reference(q, k, v, L, 0.7) * w).sum();
  const auto grads = torch::autograd::grad({loss}, {q, k, v});
  const std::vector<at::Tensor> base{q0, k0, v0};
  for (size_t which = 0; which < 3; ++which) {
    auto numeric = at::zeros_like(base[which]);
    auto flat = numeric.view({-1});
    for (int64_t e = 0; e < flat.numel(); ++e) {
      std::vector<at::Tensor> plus(base), minus(base);
      plus[which] = base[which].clone();
      minus[which] = base[which].clone();
      plus[which].view({-1})[e] += 1e-6;
      minus[which].view({-1})[e] -= 1e-6;
      const double fp = (core::block_sparse_attention_reference(plus[0], plus[1], plus[2], L, 0.7) * w).sum().item<double>();
      const double fm = (core::block_sparse_attention_reference(minus[0], minus[1], minus[2], L, 0.7) * w).sum().item<double>();
      flat[e] = (fp - fm) / 2e-6;
    }
    EXPECT_LT(test::diff(grads[which], numeric).max_abs, 1e-6) << "input " << which << ": " << test::diff(grads[which], numeric).str();
  }
}

TEST(BlockSparseReference, QueriesThatSeeNothingGetZeroAndFiniteGradients) {
  const auto s = layout_shape(1, 128, 128);
  auto mask = at::zeros({1, 2, 2}, at::kBool);
  mask[0][1][0] = true;  // query block 1 sees block 0 only; query block 0 sees nothing
  const auto L = core::layout_from_block_mask(mask, s);
  auto q = at::randn({128, 1, 8}, at::kDouble).requires_grad_(true);
  auto k = at::randn({128, 1, 8}, at::kDouble).requires_grad_(true);
  auto v = at::randn({128, 1, 8}, at::kDouble).requires_grad_(true);
  const auto r = core::block_sparse_reference_with_lse(q, k, v, L, 0.5);
  EXPECT_EQ(r.out.narrow(0, 0, 64).abs().max().item<double>(), 0.0);
  EXPECT_GT(r.out.narrow(0, 64, 64).abs().max().item<double>(), 0.0);
  EXPECT_TRUE(r.lse.narrow(1, 0, 64).isinf().all().item<bool>());
  const auto g = torch::autograd::grad({r.out.sum()}, {q, k, v});
  for (const auto& t : g) EXPECT_TRUE(at::isfinite(t).all().item<bool>());
  EXPECT_EQ(g[0].narrow(0, 0, 64).abs().max().item<double>(), 0.0);
  EXPECT_EQ(g[2].narrow(0, 64, 64).abs().max().item<double>(), 0.0);  // keys of block 1 are never attended
}

TEST(BlockSparseAttention, OnTheCpuItIsTheReference) {
  at::manual_seed(6);
  const auto s = layout_shape(4, 100, 100);
  const auto L = test::random_layout(s, 0.5, 5);
  const auto q = at::randn({100, 4, 64}), k = at::randn({100, 2, 64}), v = at::randn({100, 2, 64});
  EXPECT_FALSE(core::block_sparse_kernels_apply(q, k, v, L));
  EXPECT_TRUE(at::equal(core::block_sparse_attention(q, k, v, L, 0.125), core::block_sparse_attention_reference(q, k, v, L, 0.125)));
  const auto bf = core::block_sparse_attention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), L, 0.125);
  EXPECT_EQ(bf.scalar_type(), at::kBFloat16);
  EXPECT_LT(test::diff(bf, core::block_sparse_attention(q, k, v, L, 0.125)).max_abs, 0.05);
}

TEST(BlockSparseAttention, MismatchedShapesAreErrors) {
  const auto L = core::dense_causal_layout(layout_shape(4, 100, 100));
  const auto q = at::randn({100, 4, 8}), k = at::randn({100, 2, 8});
  EXPECT_THROW(core::block_sparse_attention(q, k, at::randn({100, 2, 4}), L, 1.0), core::Error);   // v's D
  EXPECT_THROW(core::block_sparse_attention(q, at::randn({100, 3, 8}), at::randn({100, 3, 8}), L, 1.0), core::Error);  // 3 | 4
  EXPECT_THROW(core::block_sparse_attention(q.narrow(0, 0, 99), k, k, L, 1.0), core::Error);  // layout's seq_q
  EXPECT_THROW(core::block_sparse_attention(q, k, k, core::dense_causal_layout(layout_shape(2, 100, 100)), 1.0), core::Error);  // heads
  EXPECT_THROW(core::block_sparse_flash_forward(q, k, k, L, 1.0), core::Error);  // no kernel on the CPU
}
