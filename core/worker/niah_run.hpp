// Needle-in-a-haystack evaluation for train-bench (niah_lengths) and the `niah` task: the grid
// from params, the haystack token file, records per trial and per cell.
#pragma once

#include "model_source.hpp"
#include "task.hpp"

#include "jenga/core/model/causal_lm.hpp"

namespace jenga::worker {

// `params`: lengths (list, required), depths ([0, 0.25, 0.5, 0.75, 1]), trials (3), data (the
// haystack token file) + data_format, tokenizer, seed. Emits niah_trial {length, depth} (with the
// key and answer) and niah_score {length, depth}; returns niah_average.
Json run_niah(core::CausalLM& model, const ModelSource& src, const Json& params);

}  // namespace jenga::worker
