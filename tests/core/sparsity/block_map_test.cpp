// The exact block map: the composite reference against a loop-by-loop definition on tiny inputs;
// on a GPU, the CUDA kernel against the reference on random inputs at several sizes, ragged ones
// included, MHA and GQA, fp32 and bf16.
#include "jenga/core/error.hpp"
#include "jenga/core/sparsity/block_map.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <algorithm>

using namespace jenga;

namespace {

// out[i][j] = sum_h max_{r in block i, c in block j, c <= r} max(0, q[r,h] . k[c,h/group]).
at::Tensor by_definition(const at::Tensor& q, const at::Tensor& k, int64_t block) {
  const int64_t S = q.size(0), Hq = q.size(1), group = Hq / k.size(1), nb = (S + block - 1) / block;
  auto out = at::zeros({nb, nb}, at::kDouble);
  auto qa = q.to(at::kDouble), ka = k.to(at::kDouble);
  for (int64_t h = 0; h < Hq; ++h) {
    auto s = at::matmul(qa.select(1, h), ka.select(1, h / group).t());
    auto acc = s.accessor<double, 2>();
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double m = 0;
        for (int64_t r = i * block; r < std::min(S, (i + 1) * block); ++r)
          for (int64_t c = j * block; c < std::min(S, (j + 1) * block); ++c)
            if (c <= r) m = std::max(m, acc[r][c]);
        out[i][j] += m;
      }
  }
  return out;
}

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() / std::max(1e-30, b.to(at::kDouble).abs().max().item<double>());
}

}  // namespace

TEST(BlockMap, ReferenceMatchesTheDefinition) {
  at::manual_seed(0);
  for (auto [S, Hq, Hkv, block] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{16, 2, 2, 4}, {19, 4, 2, 4}, {7, 3, 1, 8}, {33, 2, 1, 16}}) {
    const auto q = at::randn({S, Hq, 5}, at::kDouble), k = at::randn({S, Hkv, 5}, at::kDouble);
    const auto ref = core::exact_block_map_reference(q, k, block);
    EXPECT_LT(rel_err(ref, by_definition(q, k, block)), 1e-6) << S << " " << Hq << " " << Hkv;
    EXPECT_EQ(ref.triu(1).abs().sum().item<double>(), 0.0);  // causal: nothing above the diagonal
  }
}

TEST(BlockMap, BadShapesAreErrors) {
  const auto q = at::randn({8, 4, 2}), k = at::randn({8, 3, 2});
  EXPECT_THROW(core::exact_block_map(q, k), core::Error);
  EXPECT_THROW(core::exact_block_map(q, at::randn({7, 2, 2})), core::Error);
  EXPECT_THROW(core::exact_block_map(q, at::randn({8, 2, 2}), 0), core::Error);
}

TEST(BlockMap, CudaKernelMatchesTheReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(1);
  for (auto [S, Hq, Hkv, D] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{64, 2, 2, 32}, {100, 4, 2, 64}, {1000, 8, 2, 128},
                               {2048 + 37, 4, 4, 128}, {37, 1, 1, 40}}) {
    const auto opts = at::TensorOptions().device(at::kCUDA);
    const auto q = at::randn({S, Hq, D}, opts), k = at::randn({S, Hkv, D}, opts);
    const auto ref = core::exact_block_map_reference(q, k, 64);
    EXPECT_LT(rel_err(core::exact_block_map(q, k, 64), ref), 1e-4) << S << " fp32";
    const auto qb = q.to(at::kBFloat16), kb = k.to(at::kBFloat16);
    EXPECT_LT(rel_err(core::exact_block_map(qb, kb, 64), core::exact_block_map_reference(qb, kb, 64)), 1e-3) << S << " bf16";
    // A strided view (q sliced out of a fused projection) reads the same.
    const auto wide = at::randn({S, Hq + 2, D}, opts);
    const auto qv = wide.narrow(1, 0, Hq);
    EXPECT_LT(rel_err(core::exact_block_map(qv, k, 64), core::exact_block_map_reference(qv, k, 64)), 1e-4) << S << " view";
  }
}
