#include "train_eval.hpp"

#include "longbench_run.hpp"
#include "niah_run.hpp"
#include "run_setup.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/perplexity.hpp"
#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace jenga::worker {

Json evaluate_after_training(core::CausalLM& model, const ModelSource& src, const Json& p, int64_t S, uint64_t seed,
                             const core::LayerHooks& hooks, bool method_forward_differs) {
  const int64_t vocab_size = src.config.vocab_size;
  Json lb_out = Json::object();
  if (p.contains("longbench_data")) {  // scored as users run the model: every token, no hooks
    Json lb = Json::object();
    lb["data"] = p["longbench_data"];
    if (p.contains("tokenizer")) lb["tokenizer"] = p["tokenizer"];
    if (p.contains("longbench_limit")) lb["limit"] = p["longbench_limit"];
    if (p.contains("longbench_max_context")) lb["max_context"] = p["longbench_max_context"];
    if (p.contains("longbench_max_new_tokens")) lb["max_new_tokens"] = p["longbench_max_new_tokens"];
    lb_out = run_longbench(model, src, lb, {});
  }
  if (p.contains("niah_lengths")) {  // the haystack: niah_data, else the held-out eval_data
    Json nh = Json::object();
    nh["lengths"] = p["niah_lengths"];
    if (p.contains("niah_depths")) nh["depths"] = p["niah_depths"];
    if (p.contains("niah_trials")) nh["trials"] = p["niah_trials"];
    if (p.contains("tokenizer")) nh["tokenizer"] = p["tokenizer"];
    if (p.contains("data_format")) nh["data_format"] = p["data_format"];
    nh["seed"] = seed;
    if (p.contains("niah_data")) nh["data"] = p["niah_data"];
    else if (p.contains("eval_data")) nh["data"] = p["eval_data"];
    // Named: iterating items() of a temporary reads a destroyed object (the range-for keeps
    // only the items proxy alive), which logged niah_average as null.
    const Json niah = run_niah(model, src, nh);
    for (const auto& [k, v] : niah.items()) lb_out[k] = v;
  }
  const int64_t n_eval = p.value("eval_sequences", int64_t{0});
  const auto lengths = p.contains("eval_lengths") ? p["eval_lengths"].get<std::vector<int64_t>>() : std::vector<int64_t>{};
  Json out = lb_out;
  if (n_eval <= 0 && lengths.empty()) return out;
  if (!p.contains("eval_data"))
    throw core::Error("train-bench: eval_sequences / eval_lengths need eval_data (a held-out token file)");
  Json ep = Json::object();
  ep["data"] = p["eval_data"];
  if (p.contains("data_format")) ep["data_format"] = p["data_format"];
  const auto eval = open_token_data(ep, vocab_size);
  at::NoGradGuard ng;
  if (n_eval > 0) {
    double dense_sum = 0, method_sum = 0;
    for (int64_t j = 0; j < n_eval; ++j) {
      const auto ids = eval->sequence(j, S, seed + 101).to(model.lm_head_weight().device());
      const auto labels = core::next_token_labels(ids);
      dense_sum += core::segmented_lm_loss(model.forward_hidden(ids), model.lm_head_weight(), labels).item<double>();
      if (method_forward_differs)
        method_sum += core::segmented_lm_loss(model.forward_hidden(ids, hooks), model.lm_head_weight(), labels).item<double>();
    }
    out["eval_loss"] = dense_sum / static_cast<double>(n_eval);
    if (method_forward_differs) out["eval_loss_method"] = method_sum / static_cast<double>(n_eval);
    out["eval_sequences"] = n_eval;
  }
  // Fine-tuned models are scored as users run them: every token, dense attention.
  const int64_t windows = p.value("eval_windows", int64_t{4});
  for (const int64_t L : lengths) {
    if (L < 2) throw core::Error(core::msg("train-bench: eval_lengths must be >= 2, got ", L));
    const auto r = core::window_perplexity(model, *eval, L, windows, L / 2);
    emit(protocol::make_metric("ppl", r.ppl, "", {{"eval_len", L}}));
    emit(protocol::make_metric("nll", r.nll, "nats/token", {{"eval_len", L}}));
    out["ppl_" + std::to_string(L)] = r.ppl;
  }
  return out;
}

}  // namespace jenga::worker
