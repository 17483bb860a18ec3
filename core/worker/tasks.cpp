#include "task.hpp"

#include "jenga/core/error.hpp"

#include <algorithm>

namespace jenga::worker {

Json task_info(TaskContext&);
Json task_selftest(TaskContext&);
Json task_train_bench(TaskContext&);
Json task_gemm_peak(TaskContext&);

void require_known_params(const Json& params, const std::vector<std::string>& known, const std::string& task) {
  static const std::vector<std::string> common = {"model", "device", "hf_config", "checkpoint", "weights"};
  for (const auto& [key, value] : params.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (std::find(common.begin(), common.end(), key) != common.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw core::Error(core::msg(task, ": unknown parameter '", key, "' (expected one of: ", list, ")"));
  }
}

const std::vector<Task>& all_tasks() {
  static const std::vector<Task> tasks = {
      {"info", "report provenance (versions, GPU, driver) and device memory", task_info},
      {"selftest", "a real forward/backward/AdamW loop on a small MLP; checks the loss falls", task_selftest},
      {"train-bench", "LoRA fine-tuning steps on random tokens: time and memory per step, MFU", task_train_bench},
      {"gemm-peak", "measured bf16 matrix-product TFLOP/s of the device (the MFU denominator)", task_gemm_peak},
  };
  return tasks;
}

}  // namespace jenga::worker
