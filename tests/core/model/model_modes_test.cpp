// The model's training modes beyond dense: activation offload (same gradients as plain
// checkpointing, layer inputs really leave the device-side graph) and LongLoRA attention groups
// (one group is dense; groups change the result; checkpointed recompute sees the same groups).
#include "tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/train/loss.hpp"
#include "model/activation_offload.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

using namespace jenga;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

std::unique_ptr<core::CausalLM> make(const core::ModelConfig& cfg, bool ckpt, bool offload, at::Device dev = at::kCPU) {
  core::ModelOptions o;
  o.device = dev;
  o.dtype = dev.is_cuda() ? at::kFloat : at::kDouble;
  o.gradient_checkpointing = ckpt;
  o.offload_activations = offload;
  return test::with_random_lora(cfg, o);
}

using test::lora_grads;

core::LayerHooks groups_hook(int64_t g) {
  core::LayerHooks h;
  h.attention_groups = [g](int64_t) { return g; };
  return h;
}

}  // namespace

TEST(ActivationOffload, StoresCopiesAndLoadsOnce) {
  core::ActivationOffload off;
  auto x = at::randn({6, 4}, at::kDouble);
  off.store(2, x);
  EXPECT_EQ(off.host_bytes(), 6 * 4 * 8);
  x.zero_();  // the stored copy is independent of the source
  off.prefetch(2);
  const auto y = off.load(2);
  EXPECT_GT(y.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(off.host_bytes(), 0);
  EXPECT_THROW(off.load(2), core::Error);
}

TEST(ActivationOffload, GivesTheSameGradientsAsTheDenseGraph) {
  for (bool llama : {true, false}) {
    const auto cfg = llama ? test::tiny_llama() : test::tiny_opt();
    auto plain = make(cfg, false, false);
    auto off = make(cfg, false, true);
    const auto ids = at::randint(cfg.vocab_size, {40}, at::kLong);
    const auto g1 = lora_grads(*plain, ids), g2 = lora_grads(*off, ids);
    ASSERT_EQ(g1.size(), g2.size());
    for (size_t i = 0; i < g1.size(); ++i) EXPECT_LT(rel_err(g2[i], g1[i]), 1e-12) << (llama ? "llama" : "opt") << " param " << i;
  }
}

TEST(ActivationOffload, OnCudaCopiesOverlapAndGradientsMatch) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto cfg = test::tiny_llama();
  auto plain = make(cfg, true, false, at::Device(at::kCUDA, 0));
  auto off = make(cfg, false, true, at::Device(at::kCUDA, 0));
  const auto ids = at::randint(cfg.vocab_size, {200}, at::kLong).to(at::kCUDA);
  for (int rep = 0; rep < 3; ++rep) {  // pinned buffers and prefetches are reused across steps
    const auto g1 = lora_grads(*plain, ids), g2 = lora_grads(*off, ids);
    for (size_t i = 0; i < g1.size(); ++i) EXPECT_LT(rel_err(g2[i], g1[i]), 1e-6) << "param " << i;
  }
}

TEST(AttentionGroups, OneGroupIsDenseAndMoreGroupsAreNot) {
  for (bool llama : {true, false}) {
    const auto cfg = llama ? test::tiny_llama() : test::tiny_opt();
    auto m = make(cfg, false, false);
    const auto ids = at::randint(cfg.vocab_size, {48}, at::kLong);
    EXPECT_LT(rel_err(m->logits(ids, groups_hook(1)), m->logits(ids)), 1e-12);
    const auto grouped = m->logits(ids, groups_hook(4));
    EXPECT_GT(rel_err(grouped, m->logits(ids)), 1e-3);
    // Tokens of the first group attend the same keys in every head either way: the first g/2
    // tokens of the shifted heads form a smaller group, so only the first g/2 positions agree.
    EXPECT_LT(rel_err(grouped.narrow(0, 0, 6), m->logits(ids).narrow(0, 0, 6)), 1e-12);
  }
}

TEST(AttentionGroups, CheckpointedRecomputeUsesTheSameGroups) {
  const auto cfg = test::tiny_llama();
  auto plain = make(cfg, false, false);
  auto ckpt = make(cfg, true, false);
  const auto ids = at::randint(cfg.vocab_size, {48}, at::kLong);
  core::LayerHooks h = groups_hook(4);
  h.select_tokens = [](int64_t layer, const at::Tensor& x) {
    return layer == 1 ? at::cat({at::arange(0, 16, at::kLong), at::arange(32, x.size(0), at::kLong)}) : at::Tensor();
  };
  const auto g1 = lora_grads(*plain, ids, h), g2 = lora_grads(*ckpt, ids, h);
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_LT(rel_err(g2[i], g1[i]), 1e-12) << "param " << i;
}
