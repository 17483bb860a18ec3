// Perplexity under parallel context encoding: P = 1 through the layout path equals ordinary window
// perplexity; with every piece read, swapping two equal pieces leaves the suffix's NLL unchanged
// (they share positions, so the suffix cannot tell their order) while P = 1 can tell; top_k = P
// equals reading all pieces; errors for impossible settings.
#include "../io/test_dir.hpp"
#include "../model/tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/parallel_context_perplexity.hpp"
#include "jenga/core/eval/perplexity.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using namespace jenga;

namespace {

class PcePerplexity : public test::TempDirTest {
 protected:
  // A raw uint16 token file holding `t` (int64 [n]); returns its path.
  std::string write(const at::Tensor& t, const std::string& name) {
    std::ofstream f(path(name), std::ios::binary);
    for (int64_t i = 0; i < t.numel(); ++i) {
      const uint16_t v = static_cast<uint16_t>(t[i].item<int64_t>());
      f.write(reinterpret_cast<const char*>(&v), 2);
    }
    return path(name);
  }
  std::unique_ptr<core::CausalLM> model() {
    core::ModelOptions o;
    o.dtype = at::kDouble;
    return core::make_causal_lm(test::tiny_llama(), o, "", 3);
  }
};

core::pce::Spec spec(int64_t pieces, int64_t block = 4) {
  core::pce::Spec s;
  s.n_sink = 8;
  s.context = 32;
  s.pieces = pieces;
  s.suffix = 12;
  s.block = block;
  return s;
}

}  // namespace

TEST_F(PcePerplexity, OnePieceIsOrdinaryPerplexity) {
  auto m = model();
  at::manual_seed(5);
  const core::TokenFile data(write(at::randint(97, {200}, at::kLong), "t.u16"), core::TokenFile::Width::U16, 97);
  const auto s = spec(1);
  const auto r = core::pce_window_perplexity(*m, data, s, 3);
  const auto want = core::window_perplexity(*m, data, s.total(), 3, s.suffix - 1);
  EXPECT_EQ(r.scored_tokens, 3 * (s.suffix - 1));
  EXPECT_EQ(r.scored_tokens, want.scored_tokens);
  EXPECT_EQ(r.max_position, s.total() - 1);
  EXPECT_NEAR(r.nll, want.nll, 1e-9);
  EXPECT_NEAR(r.ppl, want.ppl, 1e-6);
}

TEST_F(PcePerplexity, PieceOrderIsInvisibleToTheSuffix) {
  auto m = model();
  at::manual_seed(6);
  const auto s = spec(2);
  const auto sink = at::randint(97, {s.n_sink}, at::kLong), a = at::randint(97, {16}, at::kLong),
             b = at::randint(97, {16}, at::kLong), suffix = at::randint(97, {s.suffix}, at::kLong);
  const core::TokenFile ab(write(at::cat({sink, a, b, suffix}), "ab.u16"), core::TokenFile::Width::U16, 97);
  const core::TokenFile ba(write(at::cat({sink, b, a, suffix}), "ba.u16"), core::TokenFile::Width::U16, 97);
  const auto r_ab = core::pce_window_perplexity(*m, ab, s, 1), r_ba = core::pce_window_perplexity(*m, ba, s, 1);
  EXPECT_EQ(r_ab.max_position, s.n_sink + 16 + s.suffix - 1);
  EXPECT_NEAR(r_ab.nll, r_ba.nll, 1e-9);
  // Causal encoding of the whole window sees the order.
  const auto c_ab = core::pce_window_perplexity(*m, ab, spec(1), 1), c_ba = core::pce_window_perplexity(*m, ba, spec(1), 1);
  EXPECT_GT(std::abs(c_ab.nll - c_ba.nll), 1e-6);
  // Pieces change what the suffix sees.
  EXPECT_GT(std::abs(c_ab.nll - r_ab.nll), 1e-6);
}

TEST_F(PcePerplexity, SelectingEveryPieceEqualsReadingAll) {
  auto m = model();
  at::manual_seed(7);
  const core::TokenFile data(write(at::randint(97, {200}, at::kLong), "t.u16"), core::TokenFile::Width::U16, 97);
  const auto s = spec(4);
  const auto all = core::pce_window_perplexity(*m, data, s, 2, 0);
  const auto top4 = core::pce_window_perplexity(*m, data, s, 2, 4);
  EXPECT_NEAR(all.nll, top4.nll, 1e-9);
  // Reading fewer pieces is a different model of the suffix.
  const auto top1 = core::pce_window_perplexity(*m, data, s, 2, 1);
  EXPECT_GT(std::abs(all.nll - top1.nll), 1e-6);
}

TEST_F(PcePerplexity, RefusesImpossibleSettings) {
  auto m = model();
  at::manual_seed(8);
  const core::TokenFile data(write(at::randint(97, {40}, at::kLong), "t.u16"), core::TokenFile::Width::U16, 97);
  const core::TokenFile longer(write(at::randint(97, {200}, at::kLong), "l.u16"), core::TokenFile::Width::U16, 97);
  EXPECT_THROW(core::pce_window_perplexity(*m, data, spec(2), 1), core::Error);     // file shorter than a window
  EXPECT_THROW(core::pce_window_perplexity(*m, longer, spec(2), 1, 3), core::Error);  // top_k > P
  EXPECT_THROW(core::pce_window_perplexity(*m, longer, spec(2), 0), core::Error);     // no windows
  EXPECT_THROW(core::pce_window_perplexity(*m, longer, spec(16), 1), core::Error);    // 8 context blocks, 16 pieces
  auto one = spec(2);
  one.suffix = 1;
  EXPECT_THROW(core::pce_window_perplexity(*m, longer, one, 1), core::Error);  // nothing scored
}
