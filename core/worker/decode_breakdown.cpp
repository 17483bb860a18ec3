// decode-bench's breakdown pass (decode_breakdown.hpp).
#include "decode_breakdown.hpp"
#include "timing.hpp"

#include "jenga/core/runtime/device.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace jenga::worker {

using Clock = std::chrono::steady_clock;

nlohmann::json decode_breakdown(core::CausalLM& model, core::KvCache& cache, const int64_t* tokens, int64_t steps,
                                const core::LayerHooks& hooks) {
  const auto dev = model.options().device;
  // Per step: the time each phase ends (synced); a layer's phases are start -> attention hook ->
  // selection done -> layer end (the model's mark).
  Clock::time_point last_end;
  double pre = 0, select = 0, rest = 0;
  Clock::time_point attn_start, select_end;
  core::LayerHooks timed = hooks;
  timed.attention_layout = [&](int64_t layer, const torch::Tensor& q, const torch::Tensor& k) -> std::optional<core::SparseLayout> {
    core::synchronize(dev);
    attn_start = Clock::now();
    pre += ms_between(last_end, attn_start);
    std::optional<core::SparseLayout> L;
    if (hooks.attention_layout) L = hooks.attention_layout(layer, q, k);
    core::synchronize(dev);
    select_end = Clock::now();
    select += ms_between(attn_start, select_end);
    return L;
  };
  timed.mark = [&](const std::string& label) {
    if (hooks.mark) hooks.mark(label);
    core::synchronize(dev);
    last_end = Clock::now();
    rest += ms_between(select_end, last_end);
  };
  std::vector<double> pre_ms, select_ms, rest_ms, head_ms, total_ms;
  for (int64_t i = 0; i < steps; ++i) {
    pre = select = rest = 0;
    core::synchronize(dev);
    const auto t0 = Clock::now();
    last_end = t0;
    (void)model.decode(tokens[i], cache, timed);
    core::synchronize(dev);
    const auto t1 = Clock::now();
    pre_ms.push_back(pre);
    select_ms.push_back(select);
    rest_ms.push_back(rest);
    head_ms.push_back(ms_between(last_end, t1));
    total_ms.push_back(ms_between(t0, t1));
  }
  return {{"decode_breakdown_pre_attention_ms", median(pre_ms)},
          {"decode_breakdown_select_ms", median(select_ms)},
          {"decode_breakdown_attention_mlp_ms", median(rest_ms)},
          {"decode_breakdown_head_ms", median(head_ms)},
          {"decode_breakdown_total_ms", median(total_ms)}};
}

}  // namespace jenga::worker
