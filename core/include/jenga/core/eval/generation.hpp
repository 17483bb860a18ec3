// Greedy decoding for evaluation (LongBench-format tasks, needle-in-a-haystack): each new token
// is the argmax of the last position's logits. There is no KV cache yet, so every new token runs
// the forward over the whole sequence again: cost ~ new tokens x one forward, fine for answers of
// tens of tokens, not for long generations.
#pragma once

#include "jenga/core/model/causal_lm.hpp"

#include <cstdint>
#include <vector>

namespace jenga::core {

// The generated ids (without the prompt), at most max_new_tokens; stops before the first id in
// `stop_ids`. Error for an empty prompt or a prompt id outside the vocabulary.
std::vector<int64_t> greedy_generate(CausalLM& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids = {}, const LayerHooks& hooks = {});

}  // namespace jenga::core
