// The LongBench-format evaluation shared by the `longbench` task and train-bench's
// longbench_data: read the files, pick the tokenizer, generate, score, emit records.
#pragma once

#include "model_source.hpp"
#include "task.hpp"

#include "jenga/core/model/causal_lm.hpp"

namespace jenga::worker {

// `params`: data (path or list), tokenizer (directory or "bytes"; default the checkpoint's
// directory, else bytes for a 256-token vocabulary), max_context, max_new_tokens, limit.
// Emits sample_score {dataset, id} and score {dataset}; returns score_<dataset>,
// samples_<dataset>, score_average.
Json run_longbench(core::CausalLM& model, const ModelSource& src, const Json& params, const core::LayerHooks& hooks);

}  // namespace jenga::worker
