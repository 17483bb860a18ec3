// `niah`: the needle-in-a-haystack grid (NIAH heat map) for a model, optionally with a LoRA
// adapter. Params as niah_run.hpp, plus adapter, dtype, rope_linear_factor (auto: the longest
// length / max positions when longer).
#include "model_source.hpp"
#include "niah_run.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"

#include <algorithm>

namespace jenga::worker {

Json task_niah(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"lengths", "depths", "trials", "data", "data_format", "tokenizer", "adapter", "dtype",
                           "rope_linear_factor", "seed"},
                       "niah");
  if (!p.contains("lengths")) throw core::Error("niah: params.lengths (a list) is required");
  const auto lengths = p["lengths"].get<std::vector<int64_t>>();
  if (lengths.empty()) throw core::Error("niah: params.lengths is empty");
  auto src = resolve_model(ctx);
  auto model = make_eval_model(ctx, src, *std::max_element(lengths.begin(), lengths.end()));
  return run_niah(*model, src, p);
}

}  // namespace jenga::worker
