// Perplexity under parallel context encoding (seeds.md, "An Analysis of Parallel Context
// Encoding"): each window of spec.total() tokens is [n_sink prefix][context cut into P pieces]
// [suffix]; one forward runs with the pieces encoded independently (pce::layout, pce::position_ids)
// and the suffix's next-token NLL is scored. P = 1 without selection is ordinary causal encoding of
// the whole window (the reference); it runs through the same layout path.
#pragma once

#include "jenga/core/attention/parallel_context.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/token_file.hpp"

#include <cstdint>

namespace jenga::core {

struct PcePerplexityResult {
  int64_t windows = 0, scored_tokens = 0;
  int64_t max_position = 0;  // the largest position id used (RoPE range check)
  double nll = 0, ppl = 0;
};

// Scored tokens: the suffix tokens predicted from suffix positions, i.e. the suffix's last
// spec.suffix - 1 tokens (the first suffix token's prediction position is the last context token,
// which sees only its own piece, so it is left out); spec.suffix must be >= 2.
// top_k = 0: the suffix reads every piece; 1 <= top_k <= P: selective attention, each layer's
// layout hook picks the top_k pieces per query head by pce::select_pieces on that layer's RoPE'd
// q / k (scale 1 / sqrt(head_dim)). Windows are consecutive from the file's start when they fit,
// else spread evenly (as window_perplexity). Error for invalid sizes or a file shorter than one
// window. No gradients.
PcePerplexityResult pce_window_perplexity(CausalLM& model, const TokenFile& data, const pce::Spec& spec, int64_t windows,
                                          int64_t top_k = 0);

}  // namespace jenga::core
