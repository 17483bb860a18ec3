// `decode-bench`: decoding with decode-time key selection (Spotlight Attention, Quest,
// StreamingLLM) against dense attention — perplexity, IoU of the selected keys with the true
// top-k keys, and latency per decoded token. Per window: a dense pre-fill of `context` tokens into
// a KvCache, then `decode_tokens` teacher-forced decode steps (the true token fed each step), each
// layer from `dense_layers` on attending only the keys its method selects (decode_methods.hpp);
// the NLL of the true next token is scored at every step.
// Params:
//   method (dense | streaming | quest | spotlight_random | spotlight_trained) [dense]
//   pruning: fraction of keys dropped (quest: of the pages; streaming: sinks + a local window
//     keeping the same number of keys) [0.9]
//   context (required): tokens pre-filled; decode_tokens [64]; windows [1]
//   data / data_format: token file (PPL mode); without it random tokens, latency only
//   bits: Spotlight hash bits [32]; train_steps [200], train_top_k [0: as many as decoding keeps], train_queries [32],
//     train_context [min(context, 1024)], train_lr [1e-2]: spotlight_trained's projections are
//     trained per layer on the q/k of a dense pre-fill of a held-out window (the one after the
//     scored windows), the model frozen (spotlight.hpp: ranking loss)
//   page_size (quest) [16]; sink_tokens (streaming) [4]; dense_layers [2] (Quest's convention)
//   iou: measure the IoU (true top-k by q·k each step; excluded from the latency) [when data given]
//   breakdown: after the timed steps, up to 16 more with syncs between phases (decode_breakdown.hpp)
//     [false]; its decode_breakdown_* values join the summary
//   dtype, seed, rope_linear_factor [bf16, 0, (context + decode_tokens) / max positions when longer]
// Reports metrics ppl, nll, iou, decode_ms tagged {method, pruning}; summary: ppl, nll, iou,
// decode_ms (median over all steps, synchronised), kept_fraction (keys attended / cached, mean over
// sparse layers and steps), scored_tokens, train_loss_first / train_loss_last (spotlight_trained).
#include "decode_breakdown.hpp"
#include "decode_methods.hpp"
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"
#include "timing.hpp"

#include "jenga/core/attention/selection.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/model/kv_cache.hpp"
#include "jenga/core/runtime/device.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace jenga::worker {
namespace {

// Window w of `count` windows of `len` tokens over the data (consecutive when they fit, else
// evenly spread), or seeded random tokens.
at::Tensor window_ids(const core::TokenFile* data, int64_t w, int64_t count, int64_t len, int64_t vocab, at::Generator& gen) {
  if (!data) return at::randint(vocab, {len}, gen, at::TensorOptions().dtype(at::kLong));
  const int64_t N = data->num_tokens();
  if (N < len) throw core::Error(core::msg("decode-bench: ", data->path(), " holds ", N, " tokens, a window needs ", len));
  const int64_t start = count * len <= N ? w * len : (count == 1 ? 0 : (N - len) * w / (count - 1));
  return data->window(start, len);
}

}  // namespace

Json task_decode_bench(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"method", "pruning", "context", "decode_tokens", "windows", "data", "data_format", "bits", "train_steps",
                           "train_top_k", "train_queries", "train_context", "train_lr", "page_size", "sink_tokens",
                           "dense_layers", "iou", "breakdown", "dtype", "seed", "rope_linear_factor"},
                       "decode-bench");
  if (!p.contains("context")) throw core::Error("decode-bench: params.context (tokens pre-filled) is required");
  const std::string method_name = p.value("method", std::string("dense"));
  decode::Options opt;
  opt.method = decode::parse_method(method_name);
  opt.pruning = opt.method == decode::Method::Dense ? 0.0 : p.value("pruning", 0.9);
  opt.page_size = p.value("page_size", int64_t{16});
  opt.sink_tokens = p.value("sink_tokens", int64_t{4});
  const int64_t context = p["context"].get<int64_t>(), decode_tokens = p.value("decode_tokens", int64_t{64}),
                windows = p.value("windows", int64_t{1}), dense_layers = p.value("dense_layers", int64_t{2}),
                bits = p.value("bits", int64_t{32});
  const uint64_t seed = p.value("seed", uint64_t{0});
  if (context < 2 || decode_tokens < 1 || windows < 1 || dense_layers < 0 || bits < 1)
    throw core::Error(core::msg("decode-bench: need context >= 2, decode_tokens >= 1, windows >= 1, dense_layers >= 0, bits >= 1; got ",
                                context, ", ", decode_tokens, ", ", windows, ", ", dense_layers, ", ", bits));
  const bool trained = opt.method == decode::Method::SpotlightTrained;

  auto src = resolve_model(ctx);
  auto model = make_eval_model(ctx, src, context + decode_tokens);
  const auto dev = model->options().device;
  const auto& c = src.config;
  const auto data = open_token_data(p, c.vocab_size);
  bool measure_iou = p.value("iou", data != nullptr) && opt.method != decode::Method::Dense;
  const int64_t len = context + decode_tokens + 1;  // the last token is only a target
  auto gen = at::detail::createCPUGenerator(seed + 1);
  const int64_t layers = c.num_layers;

  // Spotlight's hashes: random per layer, or trained on a held-out window's pre-fill q / k.
  std::map<int64_t, core::spotlight::Hash> hashes;
  Json summary = Json::object();
  if (decode::is_spotlight(opt.method)) {
    for (int64_t l = dense_layers; l < layers; ++l)
      hashes[l] = core::spotlight::random_hash(c.num_heads, c.num_kv_heads, c.head_dim, bits, seed + 1000 + static_cast<uint64_t>(l));
  }
  if (trained) {
    const int64_t tctx = p.value("train_context", std::min<int64_t>(context, 1024)), tq = p.value("train_queries", int64_t{32});
    if (tctx < 2 || tq < 1 || tq >= tctx || tctx > len)
      throw core::Error(core::msg("decode-bench: need 1 <= train_queries < train_context <= context + decode_tokens + 1 (", len,
                                  "), got ", tq, " and ", tctx));
    core::spotlight::TrainOptions to;
    to.steps = p.value("train_steps", int64_t{200});
    // 0: the positives are as many keys as decoding keeps (the ranking the selection needs).
    to.top_k = p.value("train_top_k", int64_t{0});
    if (to.top_k == 0) to.top_k = core::spotlight::kept_keys(tctx - tq, opt.pruning);
    to.lr = p.value("train_lr", to.lr);
    std::map<int64_t, std::pair<at::Tensor, at::Tensor>> qk;
    core::LayerHooks record;
    record.attention_layout = [&](int64_t layer, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<core::SparseLayout> {
      if (layer >= dense_layers) qk[layer] = {q.slice(0, q.size(0) - tq).to(at::kFloat), k.to(at::kFloat)};
      return std::nullopt;
    };
    const auto held = window_ids(data.get(), windows, windows + 1, len, c.vocab_size, gen).slice(0, 0, tctx).to(dev);
    {
      at::NoGradGuard ng;
      core::KvCache cache(tctx);
      (void)model->prefill(held, cache, record);
    }
    double first = 0, last = 0;
    for (auto& [layer, t] : qk) {
      at::AutoGradMode grad(true);
      std::vector<double> losses;
      to.seed = seed + 1000 + static_cast<uint64_t>(layer);
      try {
        hashes[layer] = core::spotlight::train_hash(t.first, t.second, bits, to, &losses);
      } catch (const core::Error& e) {
        throw core::Error(core::msg("decode-bench: training layer ", layer, "'s hash: ", e.what()));
      }
      if (!losses.empty()) {
        first += losses.front();
        last += losses.back();
      }
    }
    const double n = std::max<double>(1.0, static_cast<double>(qk.size()));
    summary["train_loss_first"] = first / n;
    summary["train_loss_last"] = last / n;
  }

  decode::Selector selector(opt, hashes, dev);
  double iou_sum = 0, iou_ms = 0, kept_sum = 0;
  int64_t iou_count = 0, kept_count = 0;
  core::LayerHooks hooks;
  if (opt.method != decode::Method::Dense) {
    hooks.attention_layout = [&](int64_t layer, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<core::SparseLayout> {
      if (q.size(0) != 1 || layer < dense_layers) return std::nullopt;  // dense pre-fill and dense layers
      const auto sel = selector.select(layer, q, k);
      const int64_t S = k.size(0);
      if (measure_iou) {
        core::synchronize(dev);
        const auto t0 = std::chrono::steady_clock::now();
        const int64_t n = sel.select(0, 0).ge(0).sum().item<int64_t>();
        iou_sum += core::selection_iou(sel, core::true_topk_keys(q, k, n));
        ++iou_count;
        core::synchronize(dev);
        iou_ms += ms_since(t0);
      }
      auto L = core::columns_layout(sel, S, 64);  // no host round trip per step
      kept_sum += static_cast<double>(L.nnz_columns()) / static_cast<double>(q.size(1) * S);
      ++kept_count;
      return L;
    };
  }

  at::NoGradGuard ng;
  std::vector<double> step_ms;
  double nll = 0;
  int64_t scored = 0;
  for (int64_t w = 0; w < windows; ++w) {
    const auto ids = window_ids(data.get(), w, windows + 1, len, c.vocab_size, gen);
    const auto* tok = ids.data_ptr<int64_t>();
    core::KvCache cache(len);
    selector.reset();
    (void)model->prefill(ids.slice(0, 0, context).to(dev), cache);
    for (int64_t i = 0; i < decode_tokens; ++i) {
      core::synchronize(dev);
      const double iou_before = iou_ms;
      const auto t0 = std::chrono::steady_clock::now();
      const auto logits = model->decode(tok[context + i], cache, hooks);
      core::synchronize(dev);
      step_ms.push_back(ms_since(t0) - (iou_ms - iou_before));
      if (data) {
        nll += (at::logsumexp(logits, 0) - logits[tok[context + i + 1]]).item<double>();
        ++scored;
      }
    }
  }

  if (p.value("breakdown", false)) {
    // Where the time goes, in a separate pass on the first window (the timed steps stay unsynced).
    const auto ids = window_ids(data.get(), 0, windows + 1, len, c.vocab_size, gen);
    core::KvCache cache(len);
    selector.reset();
    (void)model->prefill(ids.slice(0, 0, context).to(dev), cache);
    const bool was = measure_iou;
    measure_iou = false;
    summary.update(decode_breakdown(*model, cache, ids.data_ptr<int64_t>() + context, std::min<int64_t>(decode_tokens, 16), hooks));
    measure_iou = was;
  }

  const Json tags{{"method", method_name}, {"pruning", opt.pruning}};
  const double decode_ms = median(step_ms);
  emit(protocol::make_metric("decode_ms", decode_ms, "ms/token", tags));
  summary["decode_ms"] = decode_ms;
  if (scored > 0) {
    const double mean = nll / static_cast<double>(scored);
    emit(protocol::make_metric("ppl", std::exp(mean), "", tags));
    emit(protocol::make_metric("nll", mean, "nats/token", tags));
    summary["ppl"] = std::exp(mean);
    summary["nll"] = mean;
    summary["scored_tokens"] = scored;
  }
  if (iou_count > 0) {
    emit(protocol::make_metric("iou", iou_sum / static_cast<double>(iou_count), "", tags));
    summary["iou"] = iou_sum / static_cast<double>(iou_count);
  }
  summary["kept_fraction"] = kept_count > 0 ? kept_sum / static_cast<double>(kept_count) : 1.0;
  summary["windows"] = windows;
  return summary;
}

}  // namespace jenga::worker
