#include "jenga/core/eval/generation.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <algorithm>

namespace jenga::core {

std::vector<int64_t> greedy_generate(CausalLM& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids, const LayerHooks& hooks) {
  if (prompt.empty()) throw Error("greedy_generate: empty prompt");
  const int64_t vocab = model.config().vocab_size;
  for (const int64_t id : prompt)
    if (id < 0 || id >= vocab) throw Error(msg("greedy_generate: prompt id ", id, " outside the vocabulary [0, ", vocab, ")"));
  at::NoGradGuard ng;
  const auto head = model.lm_head_weight();
  std::vector<int64_t> seq = prompt, out;
  for (int64_t t = 0; t < max_new_tokens; ++t) {
    const auto ids = at::tensor(seq, at::kLong).to(head.device());
    const auto h = model.forward_hidden(ids, hooks);
    // Only the last position's logits matter: one [vocab, hidden] x [hidden] product in the head's
    // own dtype (no fp32 copy of the whole head per token), read as fp32.
    const auto logits = at::matmul(head, h[h.size(0) - 1].to(head.scalar_type())).to(at::kFloat);
    const int64_t next = logits.argmax().item<int64_t>();
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

}  // namespace jenga::core
