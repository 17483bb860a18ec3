// Greedy generation equals the argmax of the full-sequence logits step by step (with the KV cache
// and without), stops before a stop id, and refuses prompts it cannot run.
#include "jenga/core/error.hpp"
#include "jenga/core/eval/generation.hpp"
#include "../model/tiny_models.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace {

TEST(Generation, GreedyMatchesArgmaxOfFullLogitsAndStops) {
  jenga::core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = jenga::test::with_random_lora(jenga::test::tiny_llama(), o);
  const std::vector<int64_t> prompt = {5, 17, 3, 88, 41, 2};
  const auto got = jenga::core::greedy_generate(*m, prompt, 6);
  ASSERT_EQ(got.size(), 6u);
  std::vector<int64_t> seq = prompt;
  for (size_t t = 0; t < got.size(); ++t) {
    at::NoGradGuard ng;
    const auto logits = m->logits(at::tensor(seq, at::kLong));
    const int64_t want = logits[logits.size(0) - 1].argmax().item<int64_t>();
    EXPECT_EQ(got[t], want) << "token " << t;
    seq.push_back(want);
  }
  // Stopping at the third token's id leaves the two before it (or fewer if it came earlier).
  const auto stopped = jenga::core::greedy_generate(*m, prompt, 6, {got[2]});
  const auto first = std::find(got.begin(), got.end(), got[2]) - got.begin();
  EXPECT_EQ(stopped, std::vector<int64_t>(got.begin(), got.begin() + first));
  EXPECT_TRUE(jenga::core::greedy_generate(*m, prompt, 0).empty());
}

TEST(Generation, KvCacheGivesTheRecomputedTokens) {
  jenga::core::ModelOptions o;
  o.dtype = at::kDouble;
  for (const auto& cfg : {jenga::test::tiny_llama(true), jenga::test::tiny_opt(true), jenga::test::tiny_opt(false)}) {
    auto m = jenga::test::with_random_lora(cfg, o);
    const std::vector<int64_t> prompt = {5, 17, 3, 88, 41, 2, 9, 60, 33};
    using jenga::core::GenerationMode;
    const auto cached = jenga::core::greedy_generate(*m, prompt, 20, {}, {}, GenerationMode::KvCache);
    EXPECT_EQ(cached.size(), 20u);
    EXPECT_EQ(cached, jenga::core::greedy_generate(*m, prompt, 20, {}, {}, GenerationMode::Recompute)) << cfg.model_type;
    // With a layout hook (A-shape on 4-token blocks) both paths still agree.
    jenga::core::LayerHooks hooks;
    hooks.attention_layout = [](int64_t, const at::Tensor& q, const at::Tensor& k) -> std::optional<jenga::core::SparseLayout> {
      jenga::core::LayoutShape s;
      s.heads = q.size(1);
      s.seq_q = q.size(0);
      s.seq_k = k.size(0);
      s.block_q = s.block_k = 4;
      return jenga::core::a_shape_layout(s, 1, 1);
    };
    EXPECT_EQ(jenga::core::greedy_generate(*m, prompt, 20, {}, hooks, GenerationMode::KvCache),
              jenga::core::greedy_generate(*m, prompt, 20, {}, hooks, GenerationMode::Recompute))
        << cfg.model_type;
  }
}

TEST(Generation, BadPromptsAreErrors) {
  jenga::core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = jenga::core::make_causal_lm(jenga::test::tiny_llama(), o, "", 1);
  EXPECT_THROW(jenga::core::greedy_generate(*m, {}, 3), jenga::core::Error);
  EXPECT_THROW(jenga::core::greedy_generate(*m, {1, 97}, 3), jenga::core::Error);  // vocab is 97
}

}  // namespace
