// `gemm-peak`: the measured bf16 matrix-product ceiling of this device (the MFU denominator).
// Params: n (8192), reps (20). Random inputs (zeros run faster and would overstate the peak).
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/train/profiler.hpp"

#include <ATen/ATen.h>

#include <algorithm>

namespace jenga::worker {

Json task_gemm_peak(TaskContext& ctx) {
  const auto device = core::select_device(ctx.device);
  require_known_params(ctx.params, {"n", "reps"}, "gemm-peak");
  const int64_t n = ctx.params.value("n", int64_t{8192});
  const int reps = ctx.params.value("reps", 20);
  const auto dtype = device.is_cuda() ? at::kBFloat16 : at::kFloat;
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  const auto a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
  auto c = at::empty({n, n}, opts);
  for (int i = 0; i < 3; ++i) at::mm_out(c, a, b);
  core::StepProfiler prof(device);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    prof.begin_step();
    at::mm_out(c, a, b);
    prof.end_phase("mm");
    ms.push_back(prof.phase_ms()[0].second);
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  return Json{{"n", n}, {"median_ms", med}, {"tflops", 2.0 * n * n * n / (med * 1e-3) / 1e12}};
}

}  // namespace jenga::worker
