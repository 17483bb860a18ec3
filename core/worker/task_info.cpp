// `info`: what this worker runs on. Used by hello_world.sh and `jenga check`.
#include "task.hpp"

#include "jenga/core/runtime/device.hpp"

#include <torch/torch.h>

#include <cmath>

namespace jenga::worker {

Json task_info(TaskContext& ctx) {
  const torch::Device device = core::select_device(ctx.device);
  const auto cap = core::apply_memory_cap_from_env(device);
  // A real allocation and product on the device, so "info ok" means the device computes.
  auto a = torch::randn({256, 256}, torch::TensorOptions().device(device));
  auto c = torch::matmul(a, a.t());
  core::synchronize(device);
  const double trace = c.trace().item<double>();
  Json s{{"matmul_ok", std::isfinite(trace) && trace > 0 ? 1 : 0}};
  if (cap) s["memory_cap_gib"] = *cap;
  return s;
}

}  // namespace jenga::worker
