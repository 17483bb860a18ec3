// Perplexity of a causal LM over windows of a token file (Table 7): each window is scored on its
// last `score_last` tokens only, so every scored token has at least seq_len - score_last tokens of
// context; the mean next-token NLL over all scored tokens of all windows gives ppl = exp(nll).
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/token_file.hpp"

#include <cstdint>

namespace jenga::core {

struct PerplexityResult {
  int64_t seq_len = 0, windows = 0, scored_tokens = 0;
  double nll = 0, ppl = 0;
};

// `windows` windows of seq_len tokens, spread evenly over the file (consecutive when they fit,
// never overlapping when the file is long enough); score_last in [1, seq_len - 1]. Error if the
// file is shorter than one window. No gradients; `hooks` lets a method's own forward be scored.
PerplexityResult window_perplexity(CausalLM& model, const TokenFile& data, int64_t seq_len, int64_t windows, int64_t score_last,
                                   const LayerHooks& hooks = {});

}  // namespace jenga::core
