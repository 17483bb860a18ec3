// `minference-search`: MInference's offline, kernel-aware pattern search on one sample input. A
// dense forward over a window of real text records every layer's RoPE'd q and k (the layout hook
// sees them and declines, so the model runs unchanged); per layer and query head the search picks
// among A-shape, vertical-slash and block-sparse candidates (minference.hpp) the cheapest whose
// recall of the dense attention mass is within tolerance of the best, and writes the pattern file
// prefill-bench reads. Params: out (required: the pattern file), seq_len (required), data (a
// token file; default random tokens: only for pipeline checks), data_format, window (0: which
// sequence of the file), max_density (1.0), eval_queries (64), spread (false), plus the
// evaluation model's params (checkpoint, adapter, dtype, seed). Metric records: recall and
// density per {layer, head, pattern}; summary: mean_recall, mean_density, heads per pattern.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/attention/minference.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>

namespace jenga::worker {

Json task_minference_search(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"out", "seq_len", "data", "data_format", "window", "max_density", "eval_queries", "spread",
                           "adapter", "dtype", "seed", "rope_linear_factor"},
                       "minference-search");
  for (const char* k : {"out", "seq_len"})
    if (!p.contains(k)) throw core::Error(core::msg("minference-search: params.", k, " is required"));
  const int64_t S = p["seq_len"].get<int64_t>();
  if (S < 128) throw core::Error(core::msg("minference-search: seq_len must be >= 128 (two query blocks), got ", S));
  const auto src = resolve_model(ctx);
  auto model = make_eval_model(ctx, src, S);
  const auto data = open_token_data(p, src.config.vocab_size);
  const uint64_t seed = p.value("seed", uint64_t{0});
  auto gen = at::detail::createCPUGenerator(seed + 1);
  const auto ids = training_sequence(data.get(), p.value("window", int64_t{0}), S, seed, src.config.vocab_size, gen);

  core::minference::SearchOptions opt;
  opt.max_density = p.value("max_density", 1.0);
  opt.eval_queries = p.value("eval_queries", int64_t{64});
  opt.spread = p.value("spread", false);
  const double scale = 1.0 / std::sqrt(static_cast<double>(src.config.head_dim));
  core::minference::PatternFile file;
  core::LayerHooks hooks;
  // Searched inside the hook, layer by layer, so no layer's q / k outlive its own search.
  hooks.attention_layout = [&](int64_t layer, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<core::SparseLayout> {
    file[layer] = core::minference::search_patterns(q, k, opt, scale);
    return std::nullopt;
  };
  {
    at::NoGradGuard ng;
    (void)model->forward_hidden(ids.to(model->lm_head_weight().device()), hooks);
  }
  const std::string out = p["out"].get<std::string>();
  core::minference::write_pattern_file(out, file);

  double recall = 0, density = 0;
  int64_t heads = 0;
  std::map<std::string, int64_t> by_pattern;
  for (const auto& [layer, choices] : file) {
    for (size_t h = 0; h < choices.size(); ++h) {
      const auto& c = choices[h];
      const std::string name = core::minference::pattern_name(c.pattern.pattern);
      const Json tags{{"layer", layer}, {"head", static_cast<int64_t>(h)}, {"pattern", name}};
      emit(protocol::make_metric("recall", c.recall, "", tags));
      emit(protocol::make_metric("density", c.density, "", tags));
      recall += c.recall;
      density += c.density;
      ++by_pattern[name];
      ++heads;
    }
  }
  // mean_*: a summary value named like a metric would stand in for the per-head records.
  Json s{{"mean_recall", heads ? recall / static_cast<double>(heads) : 0.0},
         {"mean_density", heads ? density / static_cast<double>(heads) : 0.0}, {"heads", heads}};
  for (const auto& [name, n] : by_pattern) s["heads_" + name] = n;
  return s;
}

}  // namespace jenga::worker
