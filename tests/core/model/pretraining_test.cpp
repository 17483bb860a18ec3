// Pre-training support: packed batches of sequences, full-parameter gradients (checked against
// finite differences in fp64), the trainer learning from scratch, and save_pretrained round trips.
#include "tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/loss.hpp"
#include "jenga/core/train/trainer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace jenga::core {
namespace {

ModelOptions fp64() {
  ModelOptions o;
  o.dtype = at::kDouble;
  return o;
}

at::Tensor random_ids(int64_t B, int64_t S, int64_t V, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(V, {B, S}, at::TensorOptions().dtype(at::kLong));
}

// A batch's rows must equal each sequence run alone: no attention across sequences, positions
// restart at 0 in each.
void expect_packed_equals_separate(const ModelConfig& cfg) {
  auto m = make_causal_lm(cfg, fp64(), "", 5);
  const auto ids = random_ids(3, 24, cfg.vocab_size, 1);
  at::NoGradGuard ng;
  const auto packed = m->forward_hidden(ids);
  ASSERT_EQ(packed.size(0), 3 * 24);
  for (int64_t b = 0; b < 3; ++b) {
    const auto alone = m->forward_hidden(ids[b]);
    EXPECT_TRUE(at::allclose(packed.narrow(0, b * 24, 24), alone, 1e-10, 1e-10)) << "sequence " << b;
  }
}

TEST(PackedBatch, LlamaRowsEqualEachSequenceAlone) { expect_packed_equals_separate(test::tiny_llama()); }
TEST(PackedBatch, OptRowsEqualEachSequenceAlone) { expect_packed_equals_separate(test::tiny_opt()); }

TEST(PackedBatch, LabelsStopAtEachSequenceEnd) {
  const auto ids = at::arange(6, at::TensorOptions().dtype(at::kLong)).view({2, 3});
  const auto labels = next_token_labels(ids);
  const std::vector<int64_t> expected = {1, 2, kIgnoreIndex, 4, 5, kIgnoreIndex};
  ASSERT_EQ(labels.numel(), 6);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(labels[i].item<int64_t>(), expected[static_cast<size_t>(i)]) << i;
}

TEST(PackedBatch, RefusesHooksThatNeedOneSequence) {
  auto m = make_causal_lm(test::tiny_llama(), fp64(), "", 5);
  LayerHooks h;
  h.attention_groups = [](int64_t) { return int64_t{2}; };
  EXPECT_THROW(m->forward_hidden(random_ids(2, 16, 97, 2), h), Error);
  EXPECT_THROW(m->forward_hidden(at::zeros({2, 2, 2}, at::kLong)), Error);
}

double loss_of(CausalLM& m, const at::Tensor& ids) {
  return segmented_lm_loss(m.forward_hidden(ids), m.lm_head_weight(), next_token_labels(ids), 7).item<double>();
}

// d loss / d w for a few entries of every kind of weight, against central differences.
void expect_weight_grads_match_finite_differences(const ModelConfig& cfg) {
  auto m = make_causal_lm(cfg, fp64(), "", 9);
  m->train_base_weights(true);
  const auto ids = random_ids(2, 12, cfg.vocab_size, 4);
  const auto labels = next_token_labels(ids);
  // Segmented loss with a chunk that splits the rows unevenly, so dW sums over several chunks.
  segmented_lm_loss(m->forward_hidden(ids), m->lm_head_weight(), labels, 7).backward();
  int checked = 0;
  at::manual_seed(13);
  for (const auto& [name, w] : m->base_weights()) {
    ASSERT_TRUE(w.grad().defined()) << name << " got no gradient";
    for (int k = 0; k < 2; ++k) {
      const int64_t j = at::randint(w.numel(), {1}, at::TensorOptions().dtype(at::kLong)).item<int64_t>();
      const double eps = 1e-6;
      auto flat = w.detach().view({-1});
      const double orig = flat[j].item<double>();
      at::NoGradGuard ng;
      flat[j] = orig + eps;
      const double up = loss_of(*m, ids);
      flat[j] = orig - eps;
      const double down = loss_of(*m, ids);
      flat[j] = orig;
      const double numeric = (up - down) / (2 * eps), analytic = w.grad().view({-1})[j].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << name << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(FullParameterGradients, LlamaMatchFiniteDifferences) { expect_weight_grads_match_finite_differences(test::tiny_llama()); }
TEST(FullParameterGradients, OptMatchFiniteDifferences) { expect_weight_grads_match_finite_differences(test::tiny_opt()); }

TEST(FullParameterGradients, SegmentedHeadGradientEqualsDense) {
  at::manual_seed(2);
  const auto h = at::randn({10, 6}, at::kDouble).requires_grad_(true);
  const auto W = at::randn({11, 6}, at::kDouble).requires_grad_(true);
  const auto labels = at::randint(11, {10}, at::TensorOptions().dtype(at::kLong));
  labels[3] = kIgnoreIndex;
  segmented_lm_loss(h, W, labels, 4).backward();
  const auto gh = h.grad().clone(), gw = W.grad().clone();
  h.mutable_grad() = at::Tensor();
  W.mutable_grad() = at::Tensor();
  dense_lm_loss(h, W, labels).backward();
  EXPECT_TRUE(at::allclose(gh, h.grad(), 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(gw, W.grad(), 1e-10, 1e-12));
}

TEST(FullParameterGradients, RefusesLowPrecisionMastersAndPrunedTrainedMlps) {
  ModelOptions bf16;
  bf16.dtype = at::kBFloat16;
  auto m = make_causal_lm(test::tiny_llama(), bf16, "", 1);
  EXPECT_THROW(m->train_base_weights(true), Error);
  auto f = make_causal_lm(test::tiny_llama(), fp64(), "", 1);
  f->train_base_weights(true);
  LayerHooks h;
  h.mlp_prune_ratio = [](int64_t) { return 0.5; };
  EXPECT_THROW(f->forward_hidden(random_ids(1, 8, 97, 3)[0], h), Error);
}

TEST(Pretraining, TrainerLearnsATextFromScratch) {
  // Four fixed random "documents": a model learns them only if its weights (not just a head)
  // train; the loss starts near ln(97) = 4.57 and must fall far below it.
  ModelOptions o;
  o.dtype = at::kFloat;
  auto m = make_causal_lm(test::tiny_llama(), o, "", 3);
  const auto embed_before = m->base_weights().at("model.embed_tokens.weight").clone();
  m->train_base_weights(true);
  TrainConfig tc;
  tc.lr = 1e-2;
  tc.warmup_steps = 5;
  tc.total_steps = 150;
  tc.schedule = "cosine";
  tc.min_lr_ratio = 0.1;
  tc.weight_decay = 0.1;
  Trainer t(*m, tc);
  EXPECT_DOUBLE_EQ(t.lr_at(1000), tc.lr * 0.1);
  const auto docs = random_ids(4, 32, 97, 21);
  double first = 0, last = 0;
  for (int64_t i = 0; i < tc.total_steps; ++i) {
    const auto r = t.step(docs);
    if (i == 0) first = r.loss;
    last = r.loss;
  }
  EXPECT_GT(first, 4.0);
  EXPECT_LT(last, 0.5) << "first loss " << first;
  EXPECT_FALSE(at::allclose(m->base_weights().at("model.embed_tokens.weight"), embed_before));
  // Norm scales trained (1-D tensors: no weight decay towards zero).
  EXPECT_FALSE(at::allclose(m->base_weights().at("model.norm.weight"), at::ones({32})));
}

TEST(Pretraining, SavePretrainedLoadsBackToTheSameLogits) {
  ModelOptions o;
  o.dtype = at::kFloat;
  auto m = make_causal_lm(test::tiny_llama(), o, "", 3);
  const std::string dir = std::string(::testing::TempDir()) + "/jenga_save_pretrained";
  m->save_pretrained(dir, at::kFloat);
  const auto cfg = ModelConfig::from_file(dir + "/config.json");
  EXPECT_EQ(cfg.num_kv_heads, 2);
  auto back = make_causal_lm(cfg, o, dir, 0);
  const auto ids = random_ids(1, 20, 97, 8)[0];
  at::NoGradGuard ng;
  EXPECT_TRUE(at::equal(m->logits(ids), back->logits(ids)));
}

}  // namespace
}  // namespace jenga::core
