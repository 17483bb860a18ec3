// `pce-ppl`: perplexity under parallel context encoding (seeds.md, "An Analysis of Parallel
// Context Encoding"). Each window of n_sink + context + suffix consecutive tokens of a held-out
// file is encoded as [shared sink prefix][context in P pieces, each attending only the prefix and
// itself, positions restarting after the prefix][suffix, attending the prefix, the pieces (or, with
// top_k, the top-k pieces per head chosen by each layer from its own q / k) and itself] in one
// forward through the attention-layout hook, and the suffix is scored: its last suffix - 1 tokens,
// i.e. every next-token label whose prediction position is in the suffix (the first suffix token
// is predicted from the last piece's end and is not counted). pieces = 1 is ordinary causal
// encoding of the whole window, the reference; it takes the same layout path (a causal layout), so
// every P is computed by one code path. See core/eval/parallel_context_perplexity.hpp.
//
// Params: data (required; token file), data_format (auto|uint16|uint32), windows (8), n_sink (64),
// context (tokens, a multiple of block; required), suffix (tokens; required, >= 2), pieces (P,
// required), top_k (0 = the suffix reads all pieces), block (64; n_sink and context are multiples
// of it), adapter, dtype, rope_linear_factor, seed. RoPE: the largest position id is n_sink +
// longest piece + suffix - 1 (the whole window for P = 1); when that reaches past the model's
// max_position_embeddings (Llama), rope_linear_factor defaults to (largest position + 1) / max
// positions as model_options does for long inputs, so P = 1 over a long window is scored with
// interpolated RoPE while larger P may need none: give rope_linear_factor to hold it fixed over a
// sweep (experiments/pce.yaml sizes its windows to fit the reference model's 2K positions instead).
// OPT (learned positions) refuses positions past its table.
// Reports metric records ppl and nll tagged {pieces, top_k}; the summary holds ppl, nll,
// tokens_scored, windows, max_position and rope_linear_factor.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/parallel_context_perplexity.hpp"

namespace jenga::worker {

Json task_pce_ppl(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"data", "data_format", "windows", "n_sink", "context", "suffix", "pieces", "top_k", "block",
                           "adapter", "dtype", "rope_linear_factor", "seed"},
                       "pce-ppl");
  for (const char* key : {"data", "context", "suffix", "pieces"})
    if (!p.contains(key)) throw core::Error(core::msg("pce-ppl: params.", key, " is required"));
  core::pce::Spec spec;
  spec.n_sink = p.value("n_sink", int64_t{64});
  spec.context = p["context"].get<int64_t>();
  spec.suffix = p["suffix"].get<int64_t>();
  spec.pieces = p["pieces"].get<int64_t>();
  spec.block = p.value("block", int64_t{64});
  const int64_t top_k = p.value("top_k", int64_t{0});
  const int64_t windows = p.value("windows", int64_t{8});
  try {
    spec.check();
  } catch (const core::Error& e) {
    throw core::Error(core::msg("pce-ppl: ", e.what()));
  }
  const int64_t max_position = core::pce::position_ids(spec).max().item<int64_t>();

  auto src = resolve_model(ctx);
  // Built for max_position + 1 positions: model_options' RoPE factor covers the largest id used.
  auto model = make_eval_model(ctx, src, max_position + 1);
  const auto data = open_token_data(p, src.config.vocab_size);
  const auto r = core::pce_window_perplexity(*model, *data, spec, windows, top_k);

  const Json tags = {{"pieces", spec.pieces}, {"top_k", top_k}};
  emit(protocol::make_metric("ppl", r.ppl, "", tags));
  emit(protocol::make_metric("nll", r.nll, "nats/token", tags));
  Json summary = Json::object();
  summary["ppl"] = r.ppl;
  summary["nll"] = r.nll;
  summary["tokens_scored"] = r.scored_tokens;
  summary["windows"] = r.windows;
  summary["max_position"] = r.max_position;
  summary["rope_linear_factor"] = model->options().rope_linear_factor;
  return summary;
}

}  // namespace jenga::worker
