// Model behaviour on CPU: custom autograd ops against composite references, checkpointing and
// token selection leaving results unchanged, LoRA gradients against finite differences.
#include "tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/train/loss.hpp"
#include "jenga/core/train/trainer.hpp"
#include "model/autograd_ops.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

using namespace jenga;
using core::ModelOptions;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / std::max(1e-30, b.to(at::kDouble).norm().item<double>());
}

std::unique_ptr<core::CausalLM> make(const core::ModelConfig& cfg, at::ScalarType dtype, bool ckpt = false) {
  ModelOptions o;
  o.dtype = dtype;
  o.gradient_checkpointing = ckpt;
  return test::with_random_lora(cfg, o);
}

using test::lora_grads;

}  // namespace

TEST(AutogradOps, MatchCompositeReferences) {
  at::manual_seed(0);
  auto x = at::randn({5, 16}, at::kDouble).requires_grad_(true);
  auto w = at::randn({16}, at::kDouble);
  auto W = at::randn({8, 16}, at::kDouble), b = at::randn({8}, at::kDouble);
  auto gy = at::randn({5, 8}, at::kDouble), gn = at::randn({5, 16}, at::kDouble);

  auto ref_lin = at::linear(x, W, b);
  auto dx_ref = torch::autograd::grad({ref_lin}, {x}, {gy})[0];
  auto lin = core::frozen_linear(x, W, b);
  EXPECT_LT(rel_err(lin, ref_lin), 1e-12);
  EXPECT_LT(rel_err(torch::autograd::grad({lin}, {x}, {gy})[0], dx_ref), 1e-12);

  auto ref_norm = x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * w;
  auto norm = core::rms_norm(x, w, 1e-5);
  EXPECT_LT(rel_err(norm, ref_norm), 1e-12);
  EXPECT_LT(rel_err(torch::autograd::grad({norm}, {x}, {gn})[0], torch::autograd::grad({ref_norm}, {x}, {gn})[0]), 1e-10);

  auto g = at::randn({5, 16}, at::kDouble).requires_grad_(true), u = at::randn({5, 16}, at::kDouble).requires_grad_(true);
  auto ref_sw = at::silu(g) * u;
  auto sw = core::swiglu(g, u);
  EXPECT_LT(rel_err(sw, ref_sw), 1e-12);
  auto r1 = torch::autograd::grad({sw}, {g, u}, {gn});
  auto r2 = torch::autograd::grad({ref_sw}, {g, u}, {gn});
  EXPECT_LT(rel_err(r1[0], r2[0]), 1e-6);  // computed in fp32 by design
  EXPECT_LT(rel_err(r1[1], r2[1]), 1e-6);
}

TEST(Model, CheckpointingGivesTheSameGradients) {
  for (bool llama : {true, false}) {
    const auto cfg = llama ? test::tiny_llama() : test::tiny_opt();
    auto plain = make(cfg, at::kDouble, false);
    auto ckpt = make(cfg, at::kDouble, true);
    const auto ids = at::randint(cfg.vocab_size, {40}, at::kLong);
    const auto g1 = lora_grads(*plain, ids), g2 = lora_grads(*ckpt, ids);
    ASSERT_EQ(g1.size(), g2.size());
    for (size_t i = 0; i < g1.size(); ++i) EXPECT_LT(rel_err(g2[i], g1[i]), 1e-12) << (llama ? "llama" : "opt") << " param " << i;
  }
}

TEST(Model, KeepingEveryTokenEqualsDense) {
  for (bool llama : {true, false}) {
    const auto cfg = llama ? test::tiny_llama() : test::tiny_opt();
    auto m = make(cfg, at::kDouble);
    const auto ids = at::randint(cfg.vocab_size, {24}, at::kLong);
    core::LayerHooks all;
    all.select_tokens = [](int64_t, const at::Tensor& h) { return at::arange(h.size(0), at::kLong); };
    EXPECT_LT(rel_err(m->logits(ids, all), m->logits(ids)), 1e-12);
    const auto g1 = lora_grads(*m, ids), g2 = lora_grads(*m, ids, all);
    for (size_t i = 0; i < g1.size(); ++i) EXPECT_LT(rel_err(g2[i], g1[i]), 1e-12);
  }
}

TEST(Model, EliminatedTokensPassThroughAttention) {
  // Keep only the first half of the tokens in every layer: the kept prefix must equal a model
  // run on the prefix alone (causal attention never looks ahead).
  const auto cfg = test::tiny_llama();
  auto m = make(cfg, at::kDouble);
  const auto ids = at::randint(cfg.vocab_size, {32}, at::kLong);
  core::LayerHooks half;
  half.select_tokens = [](int64_t, const at::Tensor&) { return at::arange(16, at::kLong); };
  const auto full = m->logits(ids, half);
  const auto prefix = m->logits(ids.narrow(0, 0, 16));
  EXPECT_LT(rel_err(full.narrow(0, 0, 16), prefix), 1e-12);
}

TEST(Lora, GradientsMatchFiniteDifferences) {
  const auto cfg = test::tiny_llama();
  auto m = make(cfg, at::kDouble);
  const auto ids = at::randint(cfg.vocab_size, {20}, at::kLong);
  const auto labels = core::next_token_labels(ids);
  auto loss_fn = [&]() { return core::dense_lm_loss(m->forward_hidden(ids), m->lm_head_weight(), labels); };
  const auto grads = lora_grads(*m, ids);
  const auto params = m->trainable_parameters();
  const double eps = 1e-6;
  int checked = 0;
  for (size_t i = 0; i < params.size(); i += 3) {
    at::NoGradGuard ng;
    auto flat = params[i].view(-1);
    for (int64_t j : {int64_t{0}, flat.numel() / 2, flat.numel() - 1}) {
      const double orig = flat[j].item<double>();
      flat[j] = orig + eps;
      const double up = loss_fn().item<double>();
      flat[j] = orig - eps;
      const double down = loss_fn().item<double>();
      flat[j] = orig;
      const double fd = (up - down) / (2 * eps);
      const double an = grads[i].view(-1)[j].item<double>();
      EXPECT_NEAR(an, fd, 1e-6 + 1e-4 * std::abs(fd)) << "param " << i << " element " << j;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(Trainer, LossFallsOnARepeatedSequence) {
  // Fresh adapters on every projection, as a fine-tune starts; a repeated sequence is learnable.
  ModelOptions o;
  o.dtype = at::kFloat;
  auto m = core::make_causal_lm(test::tiny_llama(), o, "", 7);
  core::LoraConfig lc;
  lc.targets = {"q", "k", "v", "o", "gate", "up", "down"};
  m->add_lora(lc, 11);
  core::TrainConfig tc;
  tc.lr = 1e-2;
  tc.warmup_steps = 2;
  core::Trainer tr(*m, tc);
  at::manual_seed(5);
  const auto ids = at::randint(97, {64}, at::kLong);
  const double first = tr.step(ids).loss;
  double last = first;
  for (int i = 0; i < 30; ++i) last = tr.step(ids).loss;
  EXPECT_LT(last, first * 0.9);
}

TEST(Trainer, NonFiniteLossIsDivergence) {
  auto m = make(test::tiny_llama(), at::kFloat);
  {
    at::NoGradGuard ng;
    m->trainable_parameters()[0].fill_(std::numeric_limits<float>::infinity());
  }
  core::Trainer tr(*m, {});
  EXPECT_THROW(tr.step(at::randint(97, {16}, at::kLong)), core::DivergedError);
}
