// KV cache: prefill + decode give the full forward's logits at every position (Llama with GQA,
// OPT with and without project_in/out), in one pre-fill, in chunks, and with position ids.
#include "tiny_models.hpp"

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

std::unique_ptr<core::CausalLM> make64(const core::ModelConfig& cfg) {
  core::ModelOptions o;
  o.dtype = at::kDouble;
  return test::with_random_lora(cfg, o);
}

std::vector<core::ModelConfig> configs() { return {test::tiny_llama(true), test::tiny_llama(false), test::tiny_opt(true), test::tiny_opt(false)}; }

at::Tensor head_logits(core::CausalLM& m, const at::Tensor& h) { return at::linear(h, m.lm_head_weight()).to(at::kFloat); }

}  // namespace

TEST(KvCache, PrefillAndDecodeEqualFullForwardAtEveryPosition) {
  for (const auto& cfg : configs()) {
    SCOPED_TRACE(cfg.model_type + " kv heads " + std::to_string(cfg.num_kv_heads) + " E " + std::to_string(cfg.word_embed_proj_dim));
    auto m = make64(cfg);
    at::manual_seed(5);
    const auto ids = at::randint(cfg.vocab_size, {23}, at::kLong);
    at::NoGradGuard ng;
    const auto full = m->logits(ids);
    core::KvCache cache(8);  // smaller than needed: the storage grows
    const auto h = m->prefill(ids.narrow(0, 0, 9), cache);
    EXPECT_EQ(cache.length(), 9);
    EXPECT_EQ(cache.next_position(), 9);
    EXPECT_EQ(cache.layers(), cfg.num_layers);
    EXPECT_LT(rel_err(head_logits(*m, h), full.narrow(0, 0, 9)), 1e-10);
    for (int64_t t = 9; t < 23; ++t) {
      const auto got = m->decode(ids[t].item<int64_t>(), cache);
      ASSERT_EQ(got.dim(), 1);
      EXPECT_LT(rel_err(got, full[t]), 1e-6) << "position " << t;  // logits are fp32
    }
    EXPECT_EQ(cache.length(), 23);
    EXPECT_EQ(cache.keys(0).size(0), 23);
    EXPECT_GT(cache.bytes(), 0);
  }
}

TEST(KvCache, ChunkedPrefillEqualsOnePrefill) {
  for (const auto& cfg : {test::tiny_llama(true), test::tiny_opt(true)}) {
    auto m = make64(cfg);
    at::manual_seed(6);
    const auto ids = at::randint(cfg.vocab_size, {30}, at::kLong);
    at::NoGradGuard ng;
    const auto full = m->forward_hidden(ids);
    core::KvCache cache;
    const auto a = m->prefill(ids.narrow(0, 0, 7), cache);
    const auto b = m->prefill(ids.narrow(0, 7, 16), cache);  // a chunk after cached tokens: causal, offset
    const auto c = m->prefill(ids.narrow(0, 23, 7), cache);
    EXPECT_LT(rel_err(at::cat({a, b, c}), full), 1e-10) << cfg.model_type;
    EXPECT_EQ(cache.length(), 30);
    // The cached keys are the layers' keys of the whole sequence: a second cache agrees.
    core::KvCache whole;
    m->prefill(ids, whole);
    for (int64_t l = 0; l < cfg.num_layers; ++l) {
      EXPECT_LT(rel_err(cache.keys(l), whole.keys(l)), 1e-12);
      EXPECT_LT(rel_err(cache.values(l), whole.values(l)), 1e-12);
    }
  }
}

TEST(KvCache, PositionsCarryIntoTheCache) {
  auto m = make64(test::tiny_llama());
  at::manual_seed(7);
  const auto ids = at::randint(97, {12}, at::kLong);
  at::NoGradGuard ng;
  // Prompt at positions 10..21, then a token: equals a full forward with positions 10..22.
  core::LayerHooks shifted;
  shifted.positions = at::arange(10, 22, at::kLong);
  core::KvCache cache;
  m->prefill(ids, cache, shifted);
  EXPECT_EQ(cache.next_position(), 22);
  const auto got = m->decode(42, cache);
  core::LayerHooks all;
  all.positions = at::arange(10, 23, at::kLong);
  const auto want = m->logits(at::cat({ids, at::tensor({int64_t{42}}, at::kLong)}), all);
  EXPECT_LT(rel_err(got, want[12]), 1e-6);
}

TEST(KvCache, MisuseIsAnError) {
  auto m = make64(test::tiny_llama());
  core::KvCache cache;
  EXPECT_THROW(m->decode(3, cache), core::Error);  // nothing to attend
  EXPECT_THROW(m->prefill(at::zeros({2, 4}, at::kLong), cache), core::Error);
  core::LayerHooks sel;
  sel.select_tokens = [](int64_t, const at::Tensor&) { return at::Tensor(); };
  EXPECT_THROW(m->prefill(at::zeros({4}, at::kLong), cache, sel), core::Error);
  EXPECT_EQ(cache.length(), 0);
  m->prefill(at::zeros({4}, at::kLong), cache);
  EXPECT_THROW(m->decode(97, cache), core::Error);  // outside the vocabulary
  EXPECT_EQ(cache.length(), 4);
  // A cache holds one model's geometry.
  auto other = make64(test::tiny_llama(false));
  EXPECT_THROW(other->prefill(at::zeros({2}, at::kLong), cache), core::Error);
  EXPECT_EQ(cache.length(), 4);
  EXPECT_NO_THROW(m->decode(1, cache));
  // OPT's learned positions end at max_position_embeddings (128).
  auto opt = make64(test::tiny_opt());
  core::KvCache c2;
  opt->prefill(at::zeros({127}, at::kLong), c2);
  EXPECT_NO_THROW(opt->decode(1, c2));
  EXPECT_THROW(opt->decode(1, c2), core::Error);
}
