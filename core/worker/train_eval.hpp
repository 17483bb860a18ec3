// What train-bench measures after its training steps on held-out text: the mean loss at the
// training length (every token, and the method's own forward) and perplexity at other lengths
// (Table 7: a fine-tuned model scored at several context lengths).
#pragma once

#include "model_source.hpp"
#include "task.hpp"

#include "jenga/core/model/causal_lm.hpp"

#include <cstdint>

namespace jenga::worker {

// params eval_data (+ data_format), eval_sequences (mean loss over that many S-token sequences:
// eval_loss; eval_loss_method with `hooks` when the method changes the forward), eval_lengths
// (window perplexity at each length, eval_windows windows scored on their second half: metric
// records ppl / nll tagged {eval_len}, summary ppl_<L>), longbench_data (+ longbench_limit,
// longbench_max_context, tokenizer: LongBench-format scores, as task longbench), niah_lengths
// (+ niah_depths, niah_trials, niah_data: needle-in-a-haystack grid, as task niah). Returns the
// summary values; empty when none of them is given.
Json evaluate_after_training(core::CausalLM& model, const ModelSource& src, const Json& params, int64_t S, uint64_t seed,
                             const core::LayerHooks& hooks, bool method_forward_differs);

}  // namespace jenga::worker
