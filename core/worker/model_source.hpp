// Which model a task runs: the harness's --model-spec (resolved configs/models entry) or, for
// hand-run workers, params "hf_config" (+ "checkpoint"). Params "weights": "random" (default for
// systems runs; seeded, same shapes) or "checkpoint".
#pragma once

#include "task.hpp"

#include "jenga/core/model/config.hpp"

#include <string>

namespace jenga::worker {

struct ModelSource {
  core::ModelConfig config;
  std::string hf_config;   // path of the config.json
  std::string checkpoint;  // "" = random init
};

ModelSource resolve_model(const TaskContext& ctx);

}  // namespace jenga::worker
