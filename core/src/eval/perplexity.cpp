#include "jenga/core/eval/perplexity.hpp"

#include "jenga/core/error.hpp"
#include "eval/window_nll.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace jenga::core {

PerplexityResult window_perplexity(CausalLM& model, const TokenFile& data, int64_t seq_len, int64_t windows, int64_t score_last,
                                   const LayerHooks& hooks) {
  if (seq_len < 2) throw Error(msg("perplexity: seq_len must be >= 2, got ", seq_len));
  if (windows < 1) throw Error(msg("perplexity: windows must be >= 1, got ", windows));
  if (score_last < 1 || score_last >= seq_len)
    throw Error(msg("perplexity: score_last must be in [1, ", seq_len - 1, "], got ", score_last));
  const int64_t N = data.num_tokens();
  if (N < seq_len) throw Error(msg(data.path(), ": ", N, " tokens cannot fill one window of ", seq_len));
  // Labels at positions < seq_len - score_last - 1 are context only (label i is token i + 1).
  const WindowNll w = windows_nll(model, data, seq_len, windows, seq_len - score_last - 1, hooks);
  PerplexityResult r;
  r.seq_len = seq_len;
  r.windows = windows;
  r.scored_tokens = w.scored;
  r.nll = w.nll;
  r.ppl = std::exp(r.nll);
  return r;
}

}  // namespace jenga::core
