// The block-sparse flash kernels against the reference on the GPU (skipped without one): forward
// (output and logsumexp) and backward (dq, dk, dv) on random layouts at several densities,
// ragged lengths, GQA 32/8 and MHA, D 64 and 128, query blocks of 64 and 128, vertical columns,
// pre-fill chunks and decode steps (the split-key decode kernel on long rows too), empty rows, strided inputs; dense layouts against SDPA; the
// backward's determinism. Each failure prints the case and the largest error with its index
// ([token, head, dim] for outputs and gradients, [head, query] for the logsumexp).
#include "attention/block_sparse_ops.hpp"
#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/attention/selection.hpp"
#include "jenga/core/compat.hpp"
#include "layouts.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace jenga;

namespace {

struct Case {
  int64_t seq_q = 0, seq_k = 0, hq = 32, hkv = 8, dim = 128, block_q = 64;
  double density = 0.5;
  int64_t columns = 0;  // vertical lines per head
  at::ScalarType dtype = at::kBFloat16;
  bool keep_diagonal = true;
  std::string str() const {
    std::ostringstream os;
    os << "Sq " << seq_q << " S " << seq_k << " Hq " << hq << " Hkv " << hkv << " D " << dim << " block_q " << block_q
       << " density " << density << " columns/head " << columns << " " << dtype << (keep_diagonal ? "" : " (diagonal optional)");
    return os.str();
  }
};

// Tolerances on max |err| / max(1, max |reference|) (outputs: absolute, values are O(1)). bf16 keeps 8
// bits: P is rounded to bf16 before P V, as in FlashAttention, so ~1% of the largest value.
struct Tolerance {
  double out, lse, grad;
};
Tolerance tolerance(at::ScalarType t) { return t == at::kHalf ? Tolerance{4e-3, 2e-3, 1e-2} : Tolerance{2e-2, 5e-3, 4e-2}; }

core::LayoutShape shape_of(const Case& c) {
  core::LayoutShape s;
  s.heads = c.hq;
  s.seq_q = c.seq_q;
  s.seq_k = c.seq_k;
  s.block_q = c.block_q;
  s.block_k = 64;
  return s;
}

// Runs the kernels and the reference (fp32 on the same rounded inputs) and compares everything.
void check_case(const Case& c, const core::SparseLayout& L, bool backward = true) {
  SCOPED_TRACE(c.str() + ", layout density " + std::to_string(L.density()));
  const auto opts = at::TensorOptions().device(at::kCUDA).dtype(c.dtype);
  const auto q = at::randn({c.seq_q, c.hq, c.dim}, opts), k = at::randn({c.seq_k, c.hkv, c.dim}, opts),
             v = at::randn({c.seq_k, c.hkv, c.dim}, opts), dout = at::randn({c.seq_q, c.hq, c.dim}, opts);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.dim));
  ASSERT_TRUE(core::block_sparse_kernels_apply(q, k, v, L));
  const auto tol = tolerance(c.dtype);

  auto q32 = q.to(at::kFloat).requires_grad_(true), k32 = k.to(at::kFloat).requires_grad_(true),
       v32 = v.to(at::kFloat).requires_grad_(true);
  const auto want = core::block_sparse_reference_with_lse(q32, k32, v32, L, scale);
  const auto want_lse = want.lse.detach();
  const auto finite = want_lse.isfinite();
  // Both forward kernels where the device has both (mma.sync everywhere, wgmma on Hopper).
  std::vector<std::pair<std::string, core::FlashPath>> paths{{"mma.sync", core::FlashPath::MmaSync}};
  if (core::block_sparse_wgmma_available(q)) paths.emplace_back("wgmma", core::FlashPath::Wgmma);
  if (c.seq_q == 1) paths.emplace_back("decode", core::FlashPath::Decode);
  for (const auto& [name, path] : paths) {
    const auto r = core::block_sparse_flash_forward(q, k, v, L, scale, path);
    const auto d_out = test::diff(r.out, want.out);
    EXPECT_LE(d_out.max_abs, tol.out) << name << " forward output: " << d_out.str();
    // lse: +inf exactly for queries that attend nothing, close elsewhere.
    EXPECT_TRUE(at::equal(r.lse.isinf(), want_lse.isinf())) << name << " forward lse: queries with no key differ";
    if (finite.any().item<bool>()) {
      const auto d_lse = test::diff(r.lse.masked_select(finite), want_lse.masked_select(finite));
      EXPECT_LE(d_lse.max_abs, tol.lse * std::max(1.0, d_lse.want_max)) << name << " forward lse (finite entries): " << d_lse.str();
    }
  }
  if (!backward) return;
  const auto got = core::block_sparse_flash_forward(q, k, v, L, scale);  // what autograd runs

  const auto g = core::block_sparse_flash_backward(q, k, v, got.out, got.lse, dout, L, scale);
  const auto ref = torch::autograd::grad({want.out}, {q32, k32, v32}, {dout.to(at::kFloat)});
  const char* names[] = {"dq", "dk", "dv"};
  const at::Tensor mine[] = {g.dq, g.dk, g.dv};
  for (int i = 0; i < 3; ++i) {
    const auto d = test::diff(mine[i], ref[static_cast<size_t>(i)]);
    EXPECT_FALSE(d.nan) << names[i] << ": " << d.str();
    // Relative to the largest reference value, floored at 1: a gradient that is 0 in exact
    // arithmetic (one query attending one key) comes back as rounding noise.
    EXPECT_LE(d.max_abs, tol.grad * std::max(1.0, d.want_max)) << names[i] << ": " << d.str();
  }
  // Through autograd as a model would call it: the same numbers.
  auto qa = q.clone().requires_grad_(true), ka = k.clone().requires_grad_(true), va = v.clone().requires_grad_(true);
  const auto out = core::block_sparse_attention(qa, ka, va, L, scale);
  const auto ga = torch::autograd::grad({out}, {qa, ka, va}, {dout});
  EXPECT_TRUE(at::equal(out, got.out)) << "autograd forward differs from the raw kernel";
  for (int i = 0; i < 3; ++i) {
    // Bitwise without columns; column tiles add into dk / dv with atomics (order-dependent rounding).
    const auto d = test::diff(ga[static_cast<size_t>(i)], mine[i]);
    if (L.nnz_columns() == 0) EXPECT_EQ(d.max_abs, 0.0) << "autograd " << names[i] << " differs from the raw kernels: " << d.str();
    else EXPECT_LE(d.rel(), 1e-2) << "autograd " << names[i] << " differs from the raw kernels: " << d.str();
  }
}

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

}  // namespace

TEST(BlockSparseCuda, RandomLayoutsAtSeveralDensities) {
  REQUIRE_CUDA();
  at::manual_seed(10);
  for (int64_t dim : {64, 128})
    for (int64_t block_q : {64, 128})
      for (double density : {0.1, 0.3, 0.6, 0.9}) {
        Case c;
        c.seq_q = c.seq_k = 1000;  // not a multiple of 64
        c.dim = dim;
        c.block_q = block_q;
        c.density = density;
        check_case(c, test::random_layout(shape_of(c), density));
      }
}

TEST(BlockSparseCuda, DenseCausalLayoutMatchesSdpa) {
  REQUIRE_CUDA();
  at::manual_seed(11);
  for (int64_t dim : {64, 128}) {
    Case c;
    c.seq_q = c.seq_k = 2048;
    c.dim = dim;
    c.density = 1.0;
    const auto L = core::dense_causal_layout(shape_of(c), at::kCUDA);
    check_case(c, L, /*backward=*/dim == 128);
    // And against torch's own fused attention, the kernel a dense model runs.
    const auto opts = at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16);
    const auto q = at::randn({2048, 32, dim}, opts), k = at::randn({2048, 8, dim}, opts), v = at::randn({2048, 8, dim}, opts);
    const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
    const auto mine = core::block_sparse_attention(q, k, v, L, scale);
    const auto sdpa = core::compat::scaled_dot_product_attention(q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0),
                                                                 v.transpose(0, 1).unsqueeze(0), true, scale)
                          .squeeze(0)
                          .transpose(0, 1);
    const auto d = test::diff(mine, sdpa);
    EXPECT_LE(d.max_abs, 2e-2) << "D " << dim << " vs SDPA: " << d.str();
    std::cout << "[ INFO     ] forward kernel on this device: " << core::block_sparse_forward_kernel(q) << std::endl;
  }
}

TEST(BlockSparseCuda, ShortAndRaggedSequencesAndMha) {
  REQUIRE_CUDA();
  at::manual_seed(12);
  for (int64_t seq : {1, 37, 64, 65, 257}) {
    Case c;
    c.seq_q = c.seq_k = seq;
    c.hq = c.hkv = 4;
    c.density = 0.7;
    check_case(c, test::random_layout(shape_of(c), c.density));
  }
}

TEST(BlockSparseCuda, VerticalColumns) {
  REQUIRE_CUDA();
  at::manual_seed(13);
  for (int64_t dim : {64, 128})
    for (int64_t block_q : {64, 128}) {
      Case c;
      c.seq_q = c.seq_k = 1000;
      c.dim = dim;
      c.block_q = block_q;
      c.columns = 150;  // more than one 64-column tile per row
      // MInference's vertical-slash shape: A-shape blocks plus vertical lines.
      const auto L = core::with_columns(core::a_shape_layout(shape_of(c), 1, 2), at::randint(0, c.seq_k, {c.hq, c.columns}, at::kLong));
      check_case(c, L);
      check_case(c, test::random_layout(shape_of(c), 0.2, c.columns));
    }
}

TEST(BlockSparseCuda, PrefillChunksAndDecodeSteps) {
  REQUIRE_CUDA();
  at::manual_seed(14);
  for (auto [sq, sk] : {std::pair<int64_t, int64_t>{200, 1000}, {64, 777}, {1, 777}, {3, 1000}}) {
    Case c;
    c.seq_q = sq;
    c.seq_k = sk;
    c.density = 0.4;
    c.columns = 40;
    check_case(c, test::random_layout(shape_of(c), c.density, c.columns));
  }
}

TEST(BlockSparseCuda, QueriesThatSeeNothing) {
  REQUIRE_CUDA();
  at::manual_seed(15);
  Case c;
  c.seq_q = c.seq_k = 700;
  c.hq = 8;
  c.hkv = 2;
  c.density = 0.3;
  c.keep_diagonal = false;  // rows without their diagonal: early queries of a row may see nothing
  check_case(c, test::random_layout(shape_of(c), c.density, 0, false));
  auto mask = at::rand({c.hq, shape_of(c).q_blocks(), shape_of(c).k_blocks()}).lt(0.3);
  mask = mask.logical_and(at::ones({shape_of(c).q_blocks(), shape_of(c).k_blocks()}, at::kBool).tril());
  mask.select(1, 3).fill_(false);  // query block 3 of every head attends nothing
  check_case(c, core::layout_from_block_mask(mask, shape_of(c)));
}

TEST(BlockSparseCuda, HalfPrecision) {
  REQUIRE_CUDA();
  at::manual_seed(16);
  Case c;
  c.seq_q = c.seq_k = 600;
  c.dtype = at::kHalf;
  c.columns = 20;
  check_case(c, test::random_layout(shape_of(c), 0.5, c.columns));
}

TEST(BlockSparseCuda, StridedInputsFromAFusedProjection) {
  REQUIRE_CUDA();
  at::manual_seed(17);
  // q, k, v as views of one [S, Hq + 2 Hkv, D] projection output: token stride (Hq + 2 Hkv) D.
  const int64_t S = 500, Hq = 32, Hkv = 8, D = 128;
  const auto qkv = at::randn({S, Hq + 2 * Hkv, D}, at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16));
  const auto q = qkv.narrow(1, 0, Hq), k = qkv.narrow(1, Hq, Hkv), v = qkv.narrow(1, Hq + Hkv, Hkv);
  core::LayoutShape s;
  s.heads = Hq;
  s.seq_q = s.seq_k = S;
  const auto L = test::random_layout(s, 0.5, 10);
  const auto a = core::block_sparse_attention(q, k, v, L, 0.088);
  const auto b = core::block_sparse_attention(q.contiguous(), k.contiguous(), v.contiguous(), L, 0.088);
  EXPECT_TRUE(at::equal(a, b)) << test::diff(a, b).str();
}

TEST(BlockSparseCuda, BlockGradientsAreDeterministic) {
  REQUIRE_CUDA();
  at::manual_seed(18);
  Case c;
  c.seq_q = c.seq_k = 1500;
  core::LayoutShape s = shape_of(c);
  const auto L = test::random_layout(s, 0.5);  // no columns: no atomics anywhere
  const auto opts = at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16);
  const auto q = at::randn({1500, 32, 128}, opts), k = at::randn({1500, 8, 128}, opts), v = at::randn({1500, 8, 128}, opts);
  const auto dout = at::randn({1500, 32, 128}, opts);
  const auto f = core::block_sparse_flash_forward(q, k, v, L, 0.088);
  const auto g1 = core::block_sparse_flash_backward(q, k, v, f.out, f.lse, dout, L, 0.088);
  const auto g2 = core::block_sparse_flash_backward(q, k, v, f.out, f.lse, dout, L, 0.088);
  EXPECT_TRUE(at::equal(g1.dq, g2.dq));
  EXPECT_TRUE(at::equal(g1.dk, g2.dk));
  EXPECT_TRUE(at::equal(g1.dv, g2.dv));
}

TEST(BlockSparseCuda, LongerSequenceForwardOnly) {
  REQUIRE_CUDA();
  at::manual_seed(19);
  Case c;
  c.seq_q = c.seq_k = 4100;
  c.density = 0.1;
  c.columns = 100;
  check_case(c, test::random_layout(shape_of(c), c.density, c.columns), /*backward=*/false);
}

TEST(BlockSparseCuda, DecodeStepsSplitLongRows) {
  REQUIRE_CUDA();
  at::manual_seed(20);
  // One query per head over long caches: many splits per head, rows of blocks and columns, rows of
  // sorted columns only (what decode-time selection builds), the dense row, and a row with nothing.
  for (int64_t dim : {64, 128})
    for (int64_t sk : {70, 5000, 40000}) {
      Case c;
      c.seq_q = 1;
      c.seq_k = sk;
      c.dim = dim;
      c.density = 0.3;
      c.columns = 300;
      check_case(c, test::random_layout(shape_of(c), c.density, c.columns), /*backward=*/sk < 10000);
      const int64_t n = std::max<int64_t>(1, sk / 10);
      const auto keys = std::get<0>(at::sort(std::get<1>(at::rand({c.hq, sk}).topk(n, 1)), 1));  // n per head, ascending
      check_case(c, core::columns_layout(keys.to(at::kCUDA), sk), /*backward=*/false);
      check_case(c, core::dense_causal_layout(shape_of(c), at::kCUDA), /*backward=*/false);
    }
  Case c;
  c.seq_q = 1;
  c.seq_k = 3000;
  c.hq = c.hkv = 4;
  auto mask = at::rand({c.hq, 1, shape_of(c).k_blocks()}).lt(0.5);
  mask.select(0, 2).fill_(false);  // head 2 attends nothing: output 0, lse +inf
  check_case(c, core::layout_from_block_mask(mask, shape_of(c)));
}
