// `selftest`: a small MLP regression trained with AdamW for a few steps on the chosen device.
// Proves autograd, the optimizer, the device and the record stream work end to end; fails if
// the loss does not fall. Params: steps (default 20), width (default 256), seed (default 0).
#include "task.hpp"
#include "timing.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

namespace jenga::worker {

Json task_selftest(TaskContext& ctx) {
  const torch::Device device = core::select_device(ctx.device);
  core::apply_memory_cap_from_env(device);
  require_known_params(ctx.params, {"steps", "width", "seed"}, "selftest");
  const int steps = ctx.params.value("steps", 20);
  const int width = ctx.params.value("width", 256);
  torch::manual_seed(ctx.params.value("seed", 0));
  if (steps < 2 || width < 8) throw core::Error(core::msg("selftest: need steps >= 2 and width >= 8, got ", steps, ", ", width));

  torch::nn::Sequential net(torch::nn::Linear(width, width), torch::nn::ReLU(), torch::nn::Linear(width, 1));
  net->to(device);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(1e-3));
  const auto x = torch::randn({512, width}, torch::TensorOptions().device(device));
  const auto y = x.narrow(1, 0, 1) * 2.0 - x.narrow(1, 1, 1);

  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    core::reset_peak_memory(device);
    auto t0 = std::chrono::steady_clock::now();
    auto loss = torch::mse_loss(net->forward(x), y);
    core::synchronize(device);
    const double fwd = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    loss.backward();
    core::synchronize(device);
    const double bwd = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    opt.step();
    core::synchronize(device);
    const double optim = ms_since(t0);
    const double l = loss.item<double>();
    if (!std::isfinite(l)) throw core::Error(core::msg("selftest: loss is ", l, " at step ", step));
    if (step == 0) first = l;
    last = l;
    const auto mem = core::memory_stats(device);
    emit(protocol::make_step(step, {{"forward", fwd}, {"backward", bwd}, {"optimizer", optim}},
                             {{"allocated", mem.allocated}, {"peak_allocated", mem.peak_allocated},
                              {"reserved", mem.reserved}, {"peak_reserved", mem.peak_reserved}},
                             {{"loss", l}}));
  }
  if (!(last < first)) throw core::Error(core::msg("selftest: loss did not fall (", first, " -> ", last, ")"));
  return Json{{"first_loss", first}, {"last_loss", last}, {"steps", steps}};
}

}  // namespace jenga::worker
