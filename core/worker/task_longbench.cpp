// `longbench`: LongBench-format evaluation of a model (optionally with a LoRA adapter): greedy
// answers to every sample of one or more JSON-lines files, scored with each dataset's metric
// (Table 6). Params: data (a path or a list), tokenizer (a directory with tokenizer.model, or
// "bytes"; default: the checkpoint's), adapter, max_context (3500 prompt tokens, truncated in the
// middle), max_new_tokens (0: the dataset's), limit (samples per dataset), dtype,
// rope_linear_factor (auto: max_context / max positions when longer), seed. Emits metric records
// sample_score tagged {dataset, id} and score (100 x mean) tagged {dataset}; the summary holds
// score_<dataset>, samples_<dataset> and score_average.
#include "longbench_run.hpp"
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"

namespace jenga::worker {

Json task_longbench(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"data", "tokenizer", "adapter", "max_context", "max_new_tokens", "limit", "dtype",
                           "rope_linear_factor", "seed"},
                       "longbench");
  if (!p.contains("data")) throw core::Error("longbench: params.data (LongBench JSON lines: a path or a list) is required");
  const int64_t max_context = p.value("max_context", int64_t{3500});
  auto src = resolve_model(ctx);
  auto model = make_eval_model(ctx, src, max_context);
  Json lb = Json::object();
  for (const char* k : {"data", "tokenizer", "max_context", "max_new_tokens", "limit"})
    if (p.contains(k)) lb[k] = p[k];
  return run_longbench(*model, src, lb, {});
}

}  // namespace jenga::worker
