// Where a decode step's time goes: decode-bench's `breakdown` pass. Each phase is bracketed by
// device syncs, so the phases add up to a synchronised step; set beside the unsynchronised
// decode_ms, the two say whether a step is bound by the device or by launching its work.
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/model/kv_cache.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace jenga::worker {

// Medians over `steps` decode steps (tokens[i] fed at step i, cache already pre-filled), in ms:
// decode_breakdown_pre_attention_ms (embedding, norms, q/k/v, RoPE, cache writes: each layer's
// start up to its attention), _select_ms (the hooks' key selection and layouts), _attention_mlp_ms
// (attention, output projection, MLP), _head_ms (final norm, LM head) and _total_ms.
nlohmann::json decode_breakdown(core::CausalLM& model, core::KvCache& cache, const int64_t* tokens, int64_t steps,
                                const core::LayerHooks& hooks);

}  // namespace jenga::worker
