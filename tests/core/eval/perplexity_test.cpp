// Window perplexity against log-softmax of the full logits on the scored suffix; window
// placement (consecutive, then evenly spread); errors for impossible settings.
#include "../io/test_dir.hpp"
#include "../model/tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/perplexity.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using namespace jenga;

namespace {

class Perplexity : public test::TempDirTest {
 protected:
  // A raw uint16 token file of n tokens below `vocab`; returns its path.
  std::string tokens(int64_t n, int64_t vocab) {
    at::manual_seed(9);
    const auto t = at::randint(vocab, {n}, at::kLong);
    std::ofstream f(path("tokens.u16"), std::ios::binary);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t v = static_cast<uint16_t>(t[i].item<int64_t>());
      f.write(reinterpret_cast<const char*>(&v), 2);
    }
    return path("tokens.u16");
  }
  std::unique_ptr<core::CausalLM> model() {
    core::ModelOptions o;
    o.dtype = at::kDouble;
    return core::make_causal_lm(test::tiny_llama(), o, "", 3);
  }
};

// Mean NLL of tokens [S - k, S) of `ids` given everything before them.
double suffix_nll(core::CausalLM& m, const at::Tensor& ids, int64_t k) {
  at::NoGradGuard ng;
  const auto logp = at::log_softmax(m.logits(ids).to(at::kDouble), -1);
  const int64_t S = ids.size(0);
  double sum = 0;
  for (int64_t t = S - k; t < S; ++t) sum -= logp[t - 1][ids[t].item<int64_t>()].item<double>();
  return sum / static_cast<double>(k);
}

}  // namespace

TEST_F(Perplexity, MatchesLogSoftmaxOnTheScoredSuffix) {
  auto m = model();
  const core::TokenFile data(tokens(200, 97), core::TokenFile::Width::U16, 97);
  const auto r = core::window_perplexity(*m, data, 64, 3, 16);
  double want = 0;
  for (int64_t w = 0; w < 3; ++w) want += suffix_nll(*m, data.window(w * 64, 64), 16);
  want /= 3;
  EXPECT_EQ(r.scored_tokens, 48);
  EXPECT_NEAR(r.nll, want, 1e-9);
  EXPECT_NEAR(r.ppl, std::exp(want), 1e-7);
  // More windows than fit side by side: starts spread evenly over [0, 200 - 64].
  const auto r4 = core::window_perplexity(*m, data, 64, 4, 8);
  double want4 = 0;
  for (int64_t s : {0, 45, 90, 136}) want4 += suffix_nll(*m, data.window(s, 64), 8);
  EXPECT_NEAR(r4.nll, want4 / 4, 1e-9);
}

TEST_F(Perplexity, RefusesImpossibleSettings) {
  auto m = model();
  const core::TokenFile data(tokens(50, 97), core::TokenFile::Width::U16, 97);
  EXPECT_THROW(core::window_perplexity(*m, data, 64, 1, 8), core::Error);   // file shorter than a window
  EXPECT_THROW(core::window_perplexity(*m, data, 32, 1, 32), core::Error);  // nothing left as context
  EXPECT_THROW(core::window_perplexity(*m, data, 32, 0, 8), core::Error);
}
