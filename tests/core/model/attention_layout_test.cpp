// The attention_layout and positions hooks: a dense-causal layout is dense attention (values and
// LoRA gradients, with and without checkpointing), an A-shape layout attends what its mask says,
// decode steps take layouts too, explicit positions replace 0..S-1, misuse is an Error.
#include "tiny_models.hpp"

#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/model/kv_cache.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

using namespace jenga;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / std::max(1e-30, b.to(at::kDouble).norm().item<double>());
}

std::unique_ptr<core::CausalLM> make64(const core::ModelConfig& cfg, bool ckpt = false) {
  core::ModelOptions o;
  o.dtype = at::kDouble;
  o.gradient_checkpointing = ckpt;
  return test::with_random_lora(cfg, o);
}

core::LayoutShape shape_of(const at::Tensor& q, const at::Tensor& k, int64_t block_q, int64_t block_k) {
  core::LayoutShape s;
  s.heads = q.size(1);
  s.seq_q = q.size(0);
  s.seq_k = k.size(0);
  s.block_q = block_q;
  s.block_k = block_k;
  return s;
}

// A hook building `make(shape)` on 8x8 blocks, counting its calls.
core::LayerHooks layout_hook(std::function<core::SparseLayout(const core::LayoutShape&)> make, int* calls = nullptr,
                             int64_t block_q = 8) {
  core::LayerHooks h;
  h.attention_layout = [make, calls, block_q](int64_t, const at::Tensor& q, const at::Tensor& k) -> std::optional<core::SparseLayout> {
    EXPECT_FALSE(q.requires_grad());
    if (calls) ++*calls;
    return make(shape_of(q, k, block_q, 8));
  };
  return h;
}

core::SparseLayout dense(const core::LayoutShape& s) { return core::dense_causal_layout(s); }
core::SparseLayout a_shape(const core::LayoutShape& s) { return core::a_shape_layout(s, 1, 1); }

std::vector<core::ModelConfig> configs() { return {test::tiny_llama(true), test::tiny_opt(true), test::tiny_opt(false)}; }

}  // namespace

TEST(AttentionLayout, DenseCausalLayoutIsDenseAttentionWithGradients) {
  for (const auto& cfg : configs()) {
    for (const bool ckpt : {false, true}) {
      SCOPED_TRACE(cfg.model_type + (ckpt ? " checkpointed" : ""));
      auto m = make64(cfg, ckpt);
      at::manual_seed(1);
      const auto ids = at::randint(cfg.vocab_size, {37}, at::kLong);
      int calls = 0;
      const auto hooks = layout_hook(dense, &calls);
      {
        at::NoGradGuard ng;
        EXPECT_LT(rel_err(m->logits(ids, hooks), m->logits(ids)), 1e-12);
      }
      EXPECT_EQ(calls, cfg.num_layers);
      calls = 0;
      const auto want = test::lora_grads(*m, ids);
      const auto got = test::lora_grads(*m, ids, hooks);
      EXPECT_EQ(calls, cfg.num_layers);  // a checkpointed layer's recomputation reuses its layout
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(rel_err(got[i], want[i]), 1e-10) << "tensor " << i;
    }
  }
}

TEST(AttentionLayout, AShapeAttendsWhatItsMaskSays) {
  for (const auto& cfg : configs()) {
    SCOPED_TRACE(cfg.model_type);
    auto m = make64(cfg);
    at::manual_seed(2);
    const auto ids = at::randint(cfg.vocab_size, {40}, at::kLong);
    at::NoGradGuard ng;
    const auto sparse = m->logits(ids, layout_hook(a_shape));
    const auto full = m->logits(ids);
    // The same pattern drawn by hand as a block mask (sink block 0 and the diagonal block).
    const auto by_mask = m->logits(ids, layout_hook([](const core::LayoutShape& s) {
      auto mask = at::zeros({s.heads, s.q_blocks(), s.k_blocks()}, at::kBool);
      for (int64_t b = 0; b < s.q_blocks(); ++b) {
        mask.select(1, b).select(1, 0).fill_(true);
        mask.select(1, b).select(1, b).fill_(true);
      }
      return core::layout_from_block_mask(mask, s);
    }));
    EXPECT_LT(rel_err(sparse, by_mask), 1e-12);
    // The first two blocks see every earlier key either way; later tokens lose the middle.
    EXPECT_LT(rel_err(sparse.narrow(0, 0, 16), full.narrow(0, 0, 16)), 1e-12);
    EXPECT_GT(rel_err(sparse.narrow(0, 24, 16), full.narrow(0, 24, 16)), 1e-4);
    // A layout the hook declines for layer 1 leaves that layer dense.
    core::LayerHooks first_only;
    first_only.attention_layout = [](int64_t layer, const at::Tensor& q, const at::Tensor& k) -> std::optional<core::SparseLayout> {
      if (layer != 0) return std::nullopt;
      return core::a_shape_layout(shape_of(q, k, 8, 8), 1, 1);
    };
    const auto one = m->logits(ids, first_only);
    EXPECT_GT(rel_err(one, sparse), 1e-6);
    EXPECT_GT(rel_err(one, full), 1e-6);
  }
}

TEST(AttentionLayout, DecodeStepsTakeLayouts) {
  for (const auto& cfg : {test::tiny_llama(true), test::tiny_opt(true)}) {
    SCOPED_TRACE(cfg.model_type);
    auto m = make64(cfg);
    at::manual_seed(3);
    const auto ids = at::randint(cfg.vocab_size, {35}, at::kLong);
    at::NoGradGuard ng;
    // A-shape with query blocks as wide as key blocks picks per query what a decode step with
    // seq_q = 1 picks: pre-fill + decode under the hook equals the full forward under it.
    const auto hooks = layout_hook(a_shape, nullptr, 8);
    const auto full = m->logits(ids, hooks);
    core::KvCache cache;
    m->prefill(ids.narrow(0, 0, 20), cache, hooks);
    for (int64_t t = 20; t < 35; ++t)
      EXPECT_LT(rel_err(m->decode(ids[t].item<int64_t>(), cache, hooks), full[t]), 1e-6) << "position " << t;
    // Dense layouts in decode are dense decode.
    core::KvCache c1, c2;
    m->prefill(ids.narrow(0, 0, 20), c1);
    m->prefill(ids.narrow(0, 0, 20), c2);
    EXPECT_LT(rel_err(m->decode(5, c1, layout_hook(dense)), m->decode(5, c2)), 1e-12);
    // A layout of the wrong geometry names the layer and both shapes.
    core::LayerHooks bad;
    bad.attention_layout = [](int64_t, const at::Tensor& q, const at::Tensor&) -> std::optional<core::SparseLayout> {
      return core::dense_causal_layout(shape_of(q, q, 8, 8));
    };
    EXPECT_THROW(m->decode(5, c1, bad), core::Error);
  }
}

TEST(AttentionLayout, RefusesCombinationsWithoutMeaning) {
  auto m = make64(test::tiny_llama());
  const auto ids = at::randint(97, {16}, at::kLong);
  at::NoGradGuard ng;
  auto hooks = layout_hook(dense);
  hooks.select_tokens = [](int64_t, const at::Tensor&) { return at::Tensor(); };
  EXPECT_THROW(m->logits(ids, hooks), core::Error);
  hooks = layout_hook(dense);
  hooks.attention_groups = [](int64_t) { return int64_t{2}; };
  EXPECT_THROW(m->logits(ids, hooks), core::Error);
  EXPECT_THROW(m->logits(ids.view({2, 8}), layout_hook(dense)), core::Error);
  core::LayerHooks pos;
  pos.positions = at::arange(8, at::kLong);
  EXPECT_THROW(m->logits(ids.view({2, 8}), pos), core::Error);
}

TEST(PositionsHook, ExplicitPositionsReplaceTheDefault) {
  for (const auto& cfg : {test::tiny_llama(true), test::tiny_opt(true)}) {
    SCOPED_TRACE(cfg.model_type);
    auto m = make64(cfg);
    at::manual_seed(4);
    const auto ids = at::randint(cfg.vocab_size, {20}, at::kLong);
    at::NoGradGuard ng;
    const auto base = m->logits(ids);
    core::LayerHooks same;
    same.positions = at::arange(20, at::kLong);
    EXPECT_TRUE(at::equal(m->logits(ids, same), base));
    core::LayerHooks shifted;
    shifted.positions = at::arange(7, 27, at::kLong);
    const auto moved = m->logits(ids, shifted);
    if (cfg.family == core::Family::Llama)
      EXPECT_LT(rel_err(moved, base), 1e-4);  // RoPE is relative: a common shift changes nothing (up to fp32 angles)
    else
      EXPECT_GT(rel_err(moved, base), 1e-3);  // learned absolute positions
    // Restarting positions (parallel context encoding's pieces) changes what follows the restart.
    core::LayerHooks restart;
    restart.positions = at::cat({at::arange(10, at::kLong), at::arange(10, at::kLong)});
    const auto r = m->logits(ids, restart);
    EXPECT_LT(rel_err(r.narrow(0, 0, 10), base.narrow(0, 0, 10)), 1e-12);
    EXPECT_GT(rel_err(r.narrow(0, 10, 10), base.narrow(0, 10, 10)), 1e-4);
    // Length, dtype and range are checked.
    core::LayerHooks bad;
    bad.positions = at::arange(19, at::kLong);
    EXPECT_THROW(m->logits(ids, bad), core::Error);
    bad.positions = at::arange(20, at::kFloat);
    EXPECT_THROW(m->logits(ids, bad), core::Error);
    bad.positions = at::arange(-1, 19, at::kLong);
    EXPECT_THROW(m->logits(ids, bad), core::Error);
  }
  auto opt = make64(test::tiny_opt());
  core::LayerHooks past_end;
  past_end.positions = at::arange(120, 130, at::kLong);  // max_position_embeddings 128
  at::NoGradGuard ng;
  EXPECT_THROW(opt->logits(at::zeros({10}, at::kLong), past_end), core::Error);
}
