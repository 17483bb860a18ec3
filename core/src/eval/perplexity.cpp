#include "jenga/core/eval/perplexity.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/train/loss.hpp"

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
  // Consecutive windows when they fit, else evenly spaced starts (overlapping only when they must).
  const int64_t span = N - seq_len;
  at::NoGradGuard ng;
  const auto dev = model.options().device;
  double nll_sum = 0;
  int64_t scored = 0;
  for (int64_t w = 0; w < windows; ++w) {
    const int64_t start = windows * seq_len <= N ? w * seq_len : (windows == 1 ? 0 : span * w / (windows - 1));
    const auto ids = data.window(start, seq_len).to(dev);
    auto labels = next_token_labels(ids);
    // Labels at positions < seq_len - score_last - 1 are context only (label i is token i + 1).
    labels.narrow(0, 0, seq_len - score_last - 1).fill_(kIgnoreIndex);
    const auto hidden = model.forward_hidden(ids, hooks);
    const double mean = segmented_lm_loss(hidden, model.lm_head_weight(), labels).item<double>();
    nll_sum += mean * static_cast<double>(score_last);
    scored += score_last;
  }
  PerplexityResult r;
  r.seq_len = seq_len;
  r.windows = windows;
  r.scored_tokens = scored;
  r.nll = nll_sum / static_cast<double>(scored);
  r.ppl = std::exp(r.nll);
  return r;
}

}  // namespace jenga::core
