// Window perplexity with parallel context encoding (parallel_context_perplexity.hpp).
#include "jenga/core/eval/parallel_context_perplexity.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/train/loss.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace jenga::core {

PcePerplexityResult pce_window_perplexity(CausalLM& model, const TokenFile& data, const pce::Spec& spec, int64_t windows,
                                          int64_t top_k) {
  spec.check();
  if (spec.suffix < 2) throw Error(msg("pce perplexity: suffix must be >= 2 (its first token is not scored), got ", spec.suffix));
  if (windows < 1) throw Error(msg("pce perplexity: windows must be >= 1, got ", windows));
  if (top_k < 0 || top_k > spec.pieces)
    throw Error(msg("pce perplexity: top_k must be 0 (all pieces) or in [1, ", spec.pieces, "], got ", top_k));
  const int64_t S = spec.total();
  const int64_t N = data.num_tokens();
  if (N < S) throw Error(msg(data.path(), ": ", N, " tokens cannot fill one window of ", S, " (n_sink + context + suffix)"));
  const int64_t span = N - S;
  at::NoGradGuard ng;
  const auto dev = model.options().device;

  const auto positions = pce::position_ids(spec);
  LayerHooks hooks;
  hooks.positions = positions.to(dev);
  // Without selection every layer and window shares one layout (per head count), built once.
  std::optional<SparseLayout> all_pieces;
  hooks.attention_layout = [&](int64_t, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<SparseLayout> {
    if (q.size(0) != S || k.size(0) != S)
      throw Error(msg("pce perplexity: the layout hook expected the whole window of ", S, " tokens, got q ", q.sizes(), " k ",
                      k.sizes()));
    const int64_t Hq = q.size(1);
    if (top_k == 0) {
      if (!all_pieces || all_pieces->heads != Hq) all_pieces = pce::layout(spec, Hq).to(q.device());
      return all_pieces;
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(2)));
    const auto selected = pce::select_pieces(q, k, spec, top_k, scale);
    return pce::layout(spec, Hq, selected).to(q.device());
  };

  double nll_sum = 0;
  int64_t scored = 0;
  const int64_t per_window = spec.suffix - 1;
  for (int64_t w = 0; w < windows; ++w) {
    const int64_t start = windows * S <= N ? w * S : (windows == 1 ? 0 : span * w / (windows - 1));
    const auto ids = data.window(start, S).to(dev);
    auto labels = next_token_labels(ids);
    // Label i is token i + 1: positions before the suffix predict context (or the first suffix
    // token from a piece's last position) and are not scored.
    labels.narrow(0, 0, spec.suffix_begin()).fill_(kIgnoreIndex);
    const auto hidden = model.forward_hidden(ids, hooks);
    const double mean = segmented_lm_loss(hidden, model.lm_head_weight(), labels).item<double>();
    nll_sum += mean * static_cast<double>(per_window);
    scored += per_window;
  }
  PcePerplexityResult r;
  r.windows = windows;
  r.scored_tokens = scored;
  r.max_position = positions.max().item<int64_t>();
  r.nll = nll_sum / static_cast<double>(scored);
  r.ppl = std::exp(r.nll);
  return r;
}

}  // namespace jenga::core
