// Token elimination: the layer policy, block scores and kept indices; the model path with every
// block kept (gather / index_add) equals the dense path exactly, outputs and LoRA gradients, for
// Llama and OPT, with and without checkpointing; eliminated tokens pass through attention.
#include "../model/tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/sparsity/elimination.hpp"
#include "jenga/core/sparsity/token_elimination.hpp"
#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

using namespace jenga;

TEST(Elimination, LayerPolicy) {
  core::EliminationConfig c;
  std::vector<int64_t> sparse;
  for (int64_t i = 0; i < 32; ++i)
    if (core::layer_is_sparse(c, i, 32)) sparse.push_back(i);
  ASSERT_EQ(sparse.size(), 16u);  // layers 15..30 (the artifact: < 15 dense, 31 dense)
  EXPECT_EQ(sparse.front(), 15);
  EXPECT_EQ(sparse.back(), 30);
  EXPECT_DOUBLE_EQ(core::layer_mlp_prune_ratio(c, 3, 32), 0.8);
  c.mlp_prune_layers = "sparse";
  EXPECT_DOUBLE_EQ(core::layer_mlp_prune_ratio(c, 3, 32), 0.0);
  c.kept_fraction = 1.0;
  EXPECT_FALSE(core::layer_is_sparse(c, 20, 32));
  c.kept_fraction = 1.5;
  EXPECT_THROW(core::validate(c), core::Error);
  c.kept_fraction = 0.4;
  c.mlp_prune_layers = "some";
  EXPECT_THROW(core::validate(c), core::Error);
}

TEST(Elimination, ScoresAverageOverTheQueriesThatSeeABlock) {
  // Block 0 is seen by 3 query blocks, block 2 by one.
  const auto map = at::tensor({3.0f, 0.f, 0.f, 3.0f, 1.f, 0.f, 3.0f, 1.f, 5.f}).view({3, 3});
  const auto s = core::block_scores(map);
  EXPECT_TRUE(at::allclose(s, at::tensor({3.0f, 1.0f, 5.0f})));
}

TEST(Elimination, KeptTokensAreWholeBlocksInOrderWithTheLastAlwaysKept) {
  const auto scores = at::tensor({9.f, 1.f, 8.f, 0.f});
  // 4 blocks of 4 over 14 tokens (last block ragged: 12, 13); keep ceil(0.5 * 4) = 2 blocks.
  const auto idx = core::kept_token_indices(scores, 0.5, 14, 4);
  EXPECT_TRUE(at::equal(idx, at::tensor({0L, 1L, 2L, 3L, 12L, 13L})));
  EXPECT_EQ(core::kept_token_indices(scores, 1.0, 14, 4).size(0), 14);
  EXPECT_THROW(core::kept_token_indices(scores, 0.5, 20, 4), core::Error);
}

namespace {

struct Run {
  at::Tensor loss;
  std::vector<at::Tensor> grads;
};

Run run(core::CausalLM& m, const at::Tensor& ids, const core::LayerHooks& hooks) {
  for (auto& t : m.trainable_parameters()) t.mutable_grad() = at::Tensor();
  const auto h = m.forward_hidden(ids, hooks);
  auto loss = core::dense_lm_loss(h, m.lm_head_weight(), core::next_token_labels(ids));
  loss.backward();
  Run r{loss.detach(), {}};
  for (auto& t : m.trainable_parameters()) r.grads.push_back(t.grad().clone());
  return r;
}

std::unique_ptr<core::CausalLM> make(const core::ModelConfig& cfg, bool ckpt) {
  core::ModelOptions o;
  o.dtype = at::kDouble;
  o.gradient_checkpointing = ckpt;
  return test::with_random_lora(cfg, o);
}

}  // namespace

TEST(Elimination, EveryBlockKeptEqualsDenseExactly) {
  for (const auto& cfg : {test::tiny_llama(true), test::tiny_llama(false), test::tiny_opt(true), test::tiny_opt(false)}) {
    for (bool ckpt : {false, true}) {
      auto m = make(cfg, ckpt);
      const auto ids = at::randint(cfg.vocab_size, {21}, at::kLong);
      core::LayerHooks all;
      all.select_tokens = [](int64_t, const at::Tensor& x) { return at::arange(x.size(0), at::kLong); };
      const auto dense = run(*m, ids, {});
      const auto gathered = run(*m, ids, all);
      EXPECT_EQ((dense.loss - gathered.loss).abs().item<double>(), 0.0);
      for (size_t i = 0; i < dense.grads.size(); ++i) EXPECT_TRUE(at::allclose(dense.grads[i], gathered.grads[i], 0, 1e-14)) << i;
    }
  }
}

TEST(Elimination, EliminatedTokensGetNoAttentionUpdate) {
  // One layer, keep only the first 8 tokens: the others' residual after attention is their input,
  // so with the MLP's contribution removed the layer is the identity for them.
  auto cfg = test::tiny_llama();
  cfg.num_layers = 1;
  auto m = make(cfg, false);
  const auto ids = at::randint(cfg.vocab_size, {16}, at::kLong);
  core::LayerHooks keep8;
  keep8.select_tokens = [](int64_t, const at::Tensor&) { return at::arange(8, at::kLong); };
  core::LayerHooks keep_all;
  keep_all.select_tokens = [](int64_t, const at::Tensor& x) { return at::arange(x.size(0), at::kLong); };
  at::NoGradGuard ng;
  const auto a = m->forward_hidden(ids, keep8), b = m->forward_hidden(ids, keep_all);
  // The first 8 tokens attend only among themselves either way (causal): identical.
  EXPECT_TRUE(at::allclose(a.narrow(0, 0, 8), b.narrow(0, 0, 8), 0, 1e-12));
  EXPECT_FALSE(at::allclose(a.narrow(0, 8, 8), b.narrow(0, 8, 8), 0, 1e-6));
}

TEST(Elimination, EliminatorRunsBothSelectorsAndReportsWhatItKept) {
  auto cfg = test::tiny_llama();
  auto m = make(cfg, false);
  core::EliminationConfig ec;
  ec.first_sparse_layer = 0;
  ec.last_layer_dense = false;
  ec.kept_fraction = 0.5;
  ec.mlp_prune_ratio = 0.5;
  const auto ids = at::randint(cfg.vocab_size, {256}, at::kLong);
  for (auto sel : {core::TokenEliminator::Selector::Predictor, core::TokenEliminator::Selector::Exact}) {
    core::TokenEliminator e(*m, ec, sel, "", 1);
    const auto r = run(*m, ids, e.hooks());
    EXPECT_TRUE(std::isfinite(r.loss.item<double>()));
    EXPECT_NEAR(e.last_kept_fraction(), 0.5, 1e-12);  // 4 blocks of 64, 2 kept, in every layer
  }
}
