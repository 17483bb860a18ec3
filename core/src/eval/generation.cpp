#include "jenga/core/eval/generation.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/model/kv_cache.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace jenga::core {
namespace {

// Only the last position's logits matter: one [vocab, hidden] x [hidden] product in the head's
// own dtype (no fp32 copy of the whole head per token), read as fp32.
at::Tensor last_logits(const at::Tensor& head, const at::Tensor& h) {
  return at::matmul(head, h[h.size(0) - 1].to(head.scalar_type())).to(at::kFloat);
}

}  // namespace

std::vector<int64_t> greedy_generate(CausalLM& model, const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids, const LayerHooks& hooks,
                                     GenerationMode mode) {
  if (prompt.empty()) throw Error("greedy_generate: empty prompt");
  const int64_t vocab = model.config().vocab_size;
  for (const int64_t id : prompt)
    if (id < 0 || id >= vocab) throw Error(msg("greedy_generate: prompt id ", id, " outside the vocabulary [0, ", vocab, ")"));
  at::NoGradGuard ng;
  const auto head = model.lm_head_weight();
  std::vector<int64_t> out;
  if (max_new_tokens <= 0) return out;
  // Token elimination and attention groups reshape the whole sequence's attention per forward:
  // they have no cached form, so they keep the re-running path.
  const bool cached = mode == GenerationMode::KvCache && !hooks.select_tokens && !hooks.attention_groups;
  if (cached) {
    KvCache cache(static_cast<int64_t>(prompt.size()) + max_new_tokens);
    auto logits = last_logits(head, model.prefill(at::tensor(prompt, at::kLong).to(head.device()), cache, hooks));
    LayerHooks step = hooks;
    step.positions = at::Tensor();  // the prompt's; new tokens follow the cache's next position
    for (int64_t t = 0; t < max_new_tokens; ++t) {
      const int64_t next = logits.argmax().item<int64_t>();
      if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
      out.push_back(next);
      if (t + 1 < max_new_tokens) logits = model.decode(next, cache, step);
    }
    return out;
  }
  std::vector<int64_t> seq = prompt;
  for (int64_t t = 0; t < max_new_tokens; ++t) {
    const auto logits = last_logits(head, model.forward_hidden(at::tensor(seq, at::kLong).to(head.device()), hooks));
    const int64_t next = logits.argmax().item<int64_t>();
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

}  // namespace jenga::core
