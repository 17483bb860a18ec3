// Window perplexity with parallel context encoding (parallel_context_perplexity.hpp).
#include "jenga/core/eval/parallel_context_perplexity.hpp"

#include "jenga/core/error.hpp"
#include "eval/window_nll.hpp"

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

  // Label i is token i + 1: positions before the suffix predict context (or the first suffix
  // token from a piece's last position) and are not scored.
  const WindowNll w = windows_nll(model, data, S, windows, spec.suffix_begin(), hooks);
  PcePerplexityResult r;
  r.windows = windows;
  r.scored_tokens = w.scored;
  r.max_position = positions.max().item<int64_t>();
  r.nll = w.nll;
  r.ppl = std::exp(r.nll);
  return r;
}

}  // namespace jenga::core
