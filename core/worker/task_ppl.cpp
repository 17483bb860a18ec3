// `ppl`: perplexity of a model (optionally with a LoRA adapter) over windows of a token file, at
// one or several lengths (Table 7). Params: seq_lens (list) or seq_len, data (required),
// data_format (auto|uint16|uint32), windows (8), score_last (seq_len / 2: the scored suffix),
// adapter (a PEFT adapter directory), dtype, rope_linear_factor (auto: longest length / max
// positions when longer), seed. Emits metric records ppl and nll tagged {seq_len}; the summary
// holds ppl_<L> and nll_<L> per length.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/perplexity.hpp"

#include <ATen/ATen.h>

#include <algorithm>

namespace jenga::worker {

Json task_ppl(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"seq_lens", "seq_len", "data", "data_format", "windows", "score_last", "adapter", "dtype",
                           "rope_linear_factor", "seed"},
                       "ppl");
  std::vector<int64_t> lens;
  if (p.contains("seq_lens")) lens = p["seq_lens"].get<std::vector<int64_t>>();
  if (p.contains("seq_len")) lens.push_back(p["seq_len"].get<int64_t>());
  if (lens.empty()) throw core::Error("ppl: params.seq_lens (a list) or params.seq_len is required");
  if (!p.contains("data")) throw core::Error("ppl: params.data (a token file) is required");
  const int64_t windows = p.value("windows", 8);
  const int64_t longest = *std::max_element(lens.begin(), lens.end());

  auto src = resolve_model(ctx);
  auto model = make_eval_model(ctx, src, longest);
  const auto data = open_token_data(p, src.config.vocab_size);

  Json summary = Json::object();
  for (const int64_t L : lens) {
    const int64_t score_last = p.value("score_last", L / 2);
    const auto r = core::window_perplexity(*model, *data, L, windows, std::min(score_last, L - 1));
    emit(protocol::make_metric("ppl", r.ppl, "", {{"seq_len", L}}));
    emit(protocol::make_metric("nll", r.nll, "nats/token", {{"seq_len", L}}));
    summary["ppl_" + std::to_string(L)] = r.ppl;
    summary["nll_" + std::to_string(L)] = r.nll;
    summary["scored_tokens_" + std::to_string(L)] = r.scored_tokens;
  }
  summary["windows"] = windows;
  return summary;
}

}  // namespace jenga::worker
