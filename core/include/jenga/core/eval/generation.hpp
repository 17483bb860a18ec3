// Greedy decoding for evaluation (LongBench-format tasks, needle-in-a-haystack): each new token
// is the argmax of the last position's logits. The prompt is pre-filled once into a KV cache and
// each new token costs one decode step against it.
#pragma once

#include "jenga/core/model/causal_lm.hpp"

#include <cstdint>
#include <vector>

namespace jenga::core {

// KvCache: prefill + decode (hooks.positions apply to the prompt). Recompute: every new token
// re-runs the forward over the whole sequence (the reference; also what hooks with no cached
// form, select_tokens and attention_groups, always get).
enum class GenerationMode { KvCache, Recompute };

// The generated ids (without the prompt), at most max_new_tokens; stops before the first id in
// `stop_ids`. Error for an empty prompt or a prompt id outside the vocabulary.
std::vector<int64_t> greedy_generate(CausalLM& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids = {}, const LayerHooks& hooks = {},
                                     GenerationMode mode = GenerationMode::KvCache);

}  // namespace jenga::core
