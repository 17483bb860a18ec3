// `predictor-train`: trains Jenga's block predictors on a frozen model (see
// core/sparsity/predictor_training.hpp) and saves them for train-bench's `predictors` param.
// Per step: loss (summed over sparse layers), recall of the exact top blocks, predictor size.
#include "model_source.hpp"
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/sparsity/predictor_training.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

namespace jenga::worker {

Json task_predictor_train(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"seq_len", "steps", "output", "init", "lr", "target_scale", "prune_every", "prune_zero_ratio",
                           "normalize_targets", "kept_fraction", "first_sparse_layer", "last_layer_dense", "data", "data_format", "dtype", "seed",
                           "rope_linear_factor"},
                       "predictor-train");
  for (const char* k : {"seq_len", "output"})
    if (!p.contains(k)) throw core::Error(core::msg("predictor-train: params.", k, " is required"));
  const int64_t S = p["seq_len"].get<int64_t>();
  const int64_t steps = p.value("steps", 400);
  if (steps < 1) throw core::Error(core::msg("predictor-train: steps must be >= 1, got ", steps));
  const std::string output = p["output"].get<std::string>();

  auto src = resolve_model(ctx);
  extend_positions_for_random_init(src, S);
  const auto mo = model_options(ctx, src, S);
  const uint64_t seed = p.value("seed", 0);
  auto model = core::make_causal_lm(src.config, mo, src.checkpoint, seed);
  core::PredictorTrainConfig pc;
  pc.lr = p.value("lr", pc.lr);
  pc.target_scale = p.value("target_scale", pc.target_scale);
  pc.prune_every = p.value("prune_every", pc.prune_every);
  pc.prune_zero_ratio = p.value("prune_zero_ratio", pc.prune_zero_ratio);
  pc.normalize_targets = p.value("normalize_targets", pc.normalize_targets);
  core::PredictorTrainer trainer(*model, elimination_config(p), pc, p.value("init", std::string()), seed + 3);
  const auto data = open_token_data(p, src.config.vocab_size);
  auto gen = at::detail::createCPUGenerator(seed + 2);
  const bool measured = mo.device.is_cuda();
  const int64_t params_before = trainer.num_params();

  double loss = 0, recall_tail = 0, ms_sum = 0;
  int64_t tail = 0;
  for (int64_t i = 0; i < steps; ++i) {
    const auto ids = training_sequence(data.get(), i, S, seed, src.config.vocab_size, gen);
    core::synchronize(mo.device);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = trainer.step(ids);
    core::synchronize(mo.device);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ms_sum += ms;
    const auto m = core::memory_stats(mo.device);
    emit(protocol::make_step(i, Json{{"total", ms}}, measured ? Json{{"peak_allocated", m.peak_allocated}} : Json{{"peak_allocated", nullptr}},
                             {{"loss", r.loss}, {"recall", r.recall}, {"predictor_params", r.params}, {"pruned", r.pruned}, {"tokens", S}}));
    loss = r.loss;
    // The summary's recall: the mean over the last tenth of the run (at least one step).
    if (i >= steps - std::max<int64_t>(1, steps / 10)) {
      recall_tail += r.recall;
      ++tail;
    }
  }
  trainer.save(output);
  const auto m = core::memory_stats(mo.device);
  return Json{{"final_loss", loss}, {"recall", recall_tail / static_cast<double>(tail)}, {"predictor_params", trainer.num_params()},
              {"predictor_params_initial", params_before}, {"step_ms", ms_sum / static_cast<double>(steps)},
              {"target_scale", trainer.target_scale()}, {"peak_allocated_mib", measured ? Json(m.peak_allocated) : Json(nullptr)}};
}

}  // namespace jenga::worker
