#include "eval/window_nll.hpp"

#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace jenga::core {

WindowNll windows_nll(CausalLM& model, const TokenFile& data, int64_t seq_len, int64_t windows, int64_t first_scored,
                      const LayerHooks& hooks) {
  const int64_t N = data.num_tokens(), span = N - seq_len, per_window = seq_len - first_scored - 1;
  at::NoGradGuard ng;
  const auto dev = model.options().device;
  double nll_sum = 0;
  for (int64_t w = 0; w < windows; ++w) {
    const int64_t start = windows * seq_len <= N ? w * seq_len : (windows == 1 ? 0 : span * w / (windows - 1));
    const auto ids = data.window(start, seq_len).to(dev);
    auto labels = next_token_labels(ids);
    labels.narrow(0, 0, first_scored).fill_(kIgnoreIndex);
    const auto hidden = model.forward_hidden(ids, hooks);
    nll_sum += segmented_lm_loss(hidden, model.lm_head_weight(), labels).item<double>() * static_cast<double>(per_window);
  }
  WindowNll r;
  r.scored = per_window * windows;
  r.nll = nll_sum / static_cast<double>(r.scored);
  return r;
}

}  // namespace jenga::core
