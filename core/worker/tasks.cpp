#include "task.hpp"

namespace jenga::worker {

Json task_info(TaskContext&);
Json task_selftest(TaskContext&);

const std::vector<Task>& all_tasks() {
  static const std::vector<Task> tasks = {
      {"info", "report provenance (versions, GPU, driver) and device memory", task_info},
      {"selftest", "a real forward/backward/AdamW loop on a small MLP; checks the loss falls", task_selftest},
  };
  return tasks;
}

}  // namespace jenga::worker
