// `prefill-bench`: pre-fill latency of a whole model at one context length with dense attention,
// StreamingLLM (attention sinks + a local window) or MInference (per head: vertical-slash,
// A-shape or block-sparse, estimated online from the head's own q / k and run by the
// block-sparse kernel) — the seed's table of pre-fill latency vs context length. Params:
//   seq_len (required), method (dense | streaming | minference), iters (3), warmup (1), seed (0),
//   dtype (bf16), sink_tokens / local_tokens (streaming: 64 / 4096), patterns (minference: a
//   pattern file from the offline search, minference.hpp; default every head vertical-slash with
//   MInference's budgets scaled to seq_len), data (a token file; default random tokens).
// Summary: prefill_ms (median), tokens_per_s, peak_allocated_mib (CUDA), density (mean attended /
// causal pairs over layers and heads; 1 for dense), layout_ms (time spent choosing layouts, timed in
// one extra pass that synchronises per layer so the timed passes never do).
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"
#include "timing.hpp"

#include "jenga/core/attention/minference.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/train/profiler.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace jenga::worker {

Json task_prefill_bench(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"seq_len", "method", "iters", "warmup", "seed", "dtype", "sink_tokens", "local_tokens", "patterns",
                           "data", "data_format"},
                       "prefill-bench");
  if (!p.contains("seq_len")) throw core::Error("prefill-bench: params.seq_len is required");
  const int64_t S = p["seq_len"].get<int64_t>(), iters = p.value("iters", int64_t{3}), warmup = p.value("warmup", int64_t{1});
  const std::string method = p.value("method", std::string("dense"));
  if (method != "dense" && method != "streaming" && method != "minference")
    throw core::Error(core::msg("prefill-bench: unknown method '", method, "' (dense, streaming, minference)"));
  if (method != "streaming" && (p.contains("sink_tokens") || p.contains("local_tokens")))
    throw core::Error("prefill-bench: sink_tokens / local_tokens apply to method streaming");
  if (method != "minference" && p.contains("patterns")) throw core::Error("prefill-bench: patterns apply to method minference");
  if (S < 2 || iters < 1 || warmup < 0) throw core::Error("prefill-bench: need seq_len >= 2, iters >= 1, warmup >= 0");

  const auto src = resolve_model(ctx);
  const auto mo = model_options(ctx, src, S);
  auto model = core::make_causal_lm(src.config, mo, src.checkpoint, p.value("seed", uint64_t{0}));
  const auto data = open_token_data(p, src.config.vocab_size);
  auto gen = at::detail::createCPUGenerator(p.value("seed", uint64_t{0}) + 1);
  const auto ids = training_sequence(data.get(), 0, S, p.value("seed", uint64_t{0}), src.config.vocab_size, gen).to(mo.device);

  const auto& c = src.config;
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  // Per layer, the heads' patterns: a pattern file's choices, or vertical-slash everywhere.
  core::minference::PatternFile patterns;
  if (p.contains("patterns")) patterns = core::minference::read_pattern_file(p["patterns"].get<std::string>());
  const auto heads_of = [&](int64_t layer) {
    std::vector<core::minference::HeadPattern> heads;
    const auto it = patterns.find(layer);
    if (it != patterns.end()) {
      if (static_cast<int64_t>(it->second.size()) != c.num_heads)
        throw core::Error(core::msg("prefill-bench: pattern file has ", it->second.size(), " heads for layer ", layer,
                                    ", the model has ", c.num_heads));
      for (const auto& h : it->second) heads.push_back(core::minference::scaled(h.pattern, S));
    } else {
      heads.assign(static_cast<size_t>(c.num_heads), core::minference::scaled(core::minference::HeadPattern{}, S));
    }
    return heads;
  };
  const core::minference::AShapeParams streaming{p.value("sink_tokens", int64_t{64}), p.value("local_tokens", int64_t{4096})};

  double density_sum = 0, layout_ms = 0;
  int64_t layouts = 0;
  bool probing = false;
  std::optional<core::SparseLayout> streaming_layout;
  core::LayerHooks hooks;
  if (method != "dense") {
    hooks.attention_layout = [&](int64_t layer, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<core::SparseLayout> {
      if (probing) core::synchronize(q.device());  // the previous layer's work is not this layout's
      const auto t0 = std::chrono::steady_clock::now();
      core::SparseLayout L;
      if (method == "streaming") {
        // Every layer has the same A-shape: built once on the host, moved once, then reused.
        if (!streaming_layout || streaming_layout->seq_k != k.size(0) || streaming_layout->heads != q.size(1)) {
          core::LayoutShape shape;
          shape.heads = q.size(1);
          shape.seq_q = q.size(0);
          shape.seq_k = k.size(0);
          streaming_layout = core::minference::a_shape(shape, streaming).to(q.device());
        }
        L = *streaming_layout;
      } else {
        L = core::minference::layout_for_heads(q, k, heads_of(layer), scale);
      }
      if (probing) {  // timing and density both wait on the device: only in the probe pass
        core::synchronize(q.device());
        layout_ms += ms_since(t0);
        density_sum += L.density();
        ++layouts;
      }
      return L;
    };
  }

  at::NoGradGuard ng;
  core::StepProfiler prof(mo.device);
  std::vector<double> ms;
  core::MemoryStats peak;
  for (int64_t i = 0; i < warmup + iters; ++i) {
    prof.begin_step();
    (void)model->forward_hidden(ids, hooks);
    prof.end_phase("prefill");
    const double t = prof.phase_ms().front().second;
    if (i >= warmup) ms.push_back(t);
    peak = prof.step_peak();
  }
  // One more pass, not timed as a whole, to time the layout builders and read their density
  // (the timed passes never wait on the device inside the forward).
  if (method != "dense") {
    probing = true;
    (void)model->forward_hidden(ids, hooks);
  }
  const double prefill_ms = median(ms);
  Json s{{"prefill_ms", prefill_ms}, {"tokens_per_s", 1000.0 * static_cast<double>(S) / prefill_ms},
         {"density", layouts > 0 ? density_sum / static_cast<double>(layouts) : 1.0}, {"layout_ms", layout_ms}};
  s["peak_allocated_mib"] = mo.device.is_cuda() ? Json(peak.peak_allocated) : Json(nullptr);
  return s;
}

}  // namespace jenga::worker
