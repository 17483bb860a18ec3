// The block predictor: feature layout per head and block, the forward against a composite
// computation, dead-neuron pruning that leaves outputs unchanged, save/load round trip.
#include "../io/test_dir.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"
#include "jenga/core/sparsity/predictor.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

using namespace jenga;

namespace {
core::PredictorShape small() {
  core::PredictorShape s;
  s.heads = 2;
  s.head_dim = 3;
  s.block = 4;
  s.q1 = 5;
  s.q2 = 6;
  s.k1 = 7;
  s.k2 = 4;
  return s;
}
}  // namespace

TEST(Predictor, FeaturesAreABlocksTokensPerHead) {
  core::BlockPredictor p(small(), at::kCPU, at::kDouble, 1);
  const auto x = at::arange(10 * 6, at::kDouble).view({10, 6});  // 10 tokens: blocks of 4, last ragged
  const auto f = p.features(x);
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{2, 3, 12}));
  // Head 1, block 1: tokens 4..7, dims 3..5 of each, one token after another.
  EXPECT_TRUE(at::equal(f[1][1], x.narrow(0, 4, 4).narrow(1, 3, 3).reshape({12})));
  EXPECT_EQ(f[0][2].narrow(0, 6, 6).abs().sum().item<double>(), 0.0);  // padding of the ragged block
}

TEST(Predictor, ForwardIsTheSumOverHeadsOfBranchProducts) {
  core::BlockPredictor p(small(), at::kCPU, at::kDouble, 1);
  const auto x = at::randn({12, 6}, at::kDouble);
  const auto st = p.state();
  const auto f = p.features(x);
  auto br = [&](const char* b) {
    auto h = at::relu(at::linear(f, st.at(std::string(b) + ".0")));
    h = at::relu(at::linear(h, st.at(std::string(b) + ".1")));
    return at::linear(h, st.at(std::string(b) + ".2"));
  };
  const auto want = at::matmul(br("q"), br("k").transpose(1, 2)).sum(0);
  EXPECT_TRUE(at::allclose(p.forward(x).to(at::kDouble), want, 1e-6, 1e-6));
}

TEST(Predictor, PruningDeadNeuronsKeepsOutputsAndShrinksWidths) {
  core::BlockPredictor p(small(), at::kCPU, at::kDouble, 1);
  const auto x = at::rand({16, 6}, at::kDouble);  // non-negative features
  {
    // Make q.0 neurons 0 and 2 always dead: negative weights on non-negative inputs.
    at::NoGradGuard ng;
    auto w = p.parameters()[0];
    w[0].fill_(-1.0);
    w[2].fill_(-1.0);
  }
  const auto before = p.forward(x, /*track=*/true);
  const auto params_before = p.num_params();
  // Threshold 1: only neurons that were zero every time go, so the outputs cannot change. (The
  // artifact's 0.8 also drops nearly-dead neurons, an approximation the predictor trains through.)
  EXPECT_GE(p.prune_dead(1.0), 2);
  EXPECT_LE(p.shape().q1, 3);
  EXPECT_LT(p.num_params(), params_before);
  EXPECT_TRUE(at::allclose(p.forward(x), before, 1e-9, 1e-9));
  EXPECT_THROW(p.prune_dead(0.0), core::Error);
}

class PredictorFiles : public test::TempDirTest {};

TEST_F(PredictorFiles, SaveAndLoadRoundTripWithTheWidths) {
  core::BlockPredictor p(small(), at::kCPU, at::kFloat, 2);
  core::save_safetensors(path("p.safetensors"), p.state(), p.metadata());
  const core::SafetensorsFile f(path("p.safetensors"));
  std::map<std::string, at::Tensor> st;
  for (const auto& n : f.names()) st[n] = f.load(n, at::kCPU, at::kFloat);
  auto q = core::BlockPredictor::from_state(st, f.metadata(), at::kCPU, at::kFloat);
  const auto x = at::randn({8, 6});
  EXPECT_TRUE(at::equal(q.forward(x), p.forward(x)));
  auto md = f.metadata();
  md["q1"] = "9";
  EXPECT_THROW(core::BlockPredictor::from_state(st, md, at::kCPU, at::kFloat), core::Error);
  md.erase("q1");
  EXPECT_THROW(core::BlockPredictor::from_state(st, md, at::kCPU, at::kFloat), core::Error);
}
