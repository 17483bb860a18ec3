// The window loop perplexity evaluations share: windows of a token file, one forward each, the
// mean next-token NLL of the labels from a given position on.
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/token_file.hpp"

#include <cstdint>

namespace jenga::core {

struct WindowNll {
  double nll = 0;       // mean over scored tokens
  int64_t scored = 0;   // tokens scored over all windows
};

// `windows` windows of seq_len tokens (consecutive when they fit, else evenly spaced starts,
// overlapping only when they must); in each, labels at positions >= first_scored are scored
// (label i predicts token i + 1), so seq_len - first_scored - 1 tokens per window. The caller
// checks the sizes (data holds at least seq_len tokens, 0 <= first_scored < seq_len - 1).
WindowNll windows_nll(CausalLM& model, const TokenFile& data, int64_t seq_len, int64_t windows, int64_t first_scored,
                      const LayerHooks& hooks);

}  // namespace jenga::core
