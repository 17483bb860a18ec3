// On a GPU in bf16 with head_dim 64 (so layouts run the block-sparse flash kernels): pre-fill +
// decode track the full forward, a dense-causal layout tracks dense attention (values and LoRA
// gradients), and decode layouts track the full forward under the same A-shape. (Written without
// a GPU at hand: first run on an H200 still to come; tolerances are bf16 guesses.)
#include "tiny_models.hpp"

#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/model/kv_cache.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

using namespace jenga;

namespace {

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / std::max(1e-30, b.to(at::kDouble).norm().item<double>());
}

core::ModelConfig gpu_llama() {
  auto c = test::tiny_llama(true);
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.head_dim = 64;
  c.max_position_embeddings = 1024;
  return c;
}

core::LayerHooks layout_hook(bool a_shape) {
  core::LayerHooks h;
  h.attention_layout = [a_shape](int64_t, const at::Tensor& q, const at::Tensor& k) -> std::optional<core::SparseLayout> {
    core::LayoutShape s;
    s.heads = q.size(1);
    s.seq_q = q.size(0);
    s.seq_k = k.size(0);
    return a_shape ? core::a_shape_layout(s, 1, 1, q.device()) : core::dense_causal_layout(s, q.device());
  };
  return h;
}

}  // namespace

TEST(KvCacheCuda, Bf16PrefillDecodeAndLayoutsTrackTheFullForward) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  core::ModelOptions o;
  o.device = at::Device(at::kCUDA, 0);
  o.dtype = at::kBFloat16;
  auto m = test::with_random_lora(gpu_llama(), o);
  at::manual_seed(1);
  const auto ids = at::randint(97, {300}, at::kLong).to(o.device);
  {
    at::NoGradGuard ng;
    const auto full = m->logits(ids);
    core::KvCache cache(300);
    const auto h = m->prefill(ids.narrow(0, 0, 250), cache);
    EXPECT_LT(rel_err(at::linear(h, m->lm_head_weight()).to(at::kFloat), full.narrow(0, 0, 250)), 2e-2);
    for (int64_t t = 250; t < 300; ++t)
      EXPECT_LT(rel_err(m->decode(ids[t].item<int64_t>(), cache), full[t]), 2e-2) << "position " << t;
    EXPECT_LT(rel_err(m->logits(ids, layout_hook(false)), full), 2e-2);
    // A-shape: the full forward (64-query blocks) and decode steps (one query) choose the same keys.
    const auto sparse = m->logits(ids, layout_hook(true));
    core::KvCache c2;
    m->prefill(ids.narrow(0, 0, 250), c2, layout_hook(true));
    for (int64_t t = 250; t < 300; ++t)
      EXPECT_LT(rel_err(m->decode(ids[t].item<int64_t>(), c2, layout_hook(true)), sparse[t]), 2e-2) << "position " << t;
  }
  const auto want = test::lora_grads(*m, ids);
  const auto got = test::lora_grads(*m, ids, layout_hook(false));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(rel_err(got[i], want[i]), 5e-2) << "tensor " << i;
}
