#include "train_replicas.hpp"

#include "run_setup.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"

namespace jenga::worker {

ReplicaSet build_replicas(const Json& p, const ModelSource& src, const core::ModelOptions& mo, const core::TrainConfig& tc,
                          int gpus, bool eliminates, int64_t groups, uint64_t seed) {
  if (gpus < 1) throw core::Error(core::msg("train-bench: gpus must be >= 1, got ", gpus));
  if (mo.device.is_cuda() && gpus > core::cuda_device_count())
    throw core::Error(core::msg("train-bench: gpus=", gpus, " but ", core::cuda_device_count(), " CUDA device(s) are visible"));
  ReplicaSet set;
  if (gpus > 1) set.sync = std::make_unique<core::GradAllReduce>(gpus);
  core::LoraConfig lc;
  lc.rank = p.value("lora_rank", 8);
  lc.alpha = p.value("lora_alpha", 16.0);
  if (p.contains("lora_targets")) lc.targets = p["lora_targets"].get<std::vector<std::string>>();
  for (int r = 0; r < gpus; ++r) {
    Replica rep;
    core::ModelOptions o = mo;
    if (mo.device.is_cuda()) {
      o.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r));
      if (r > 0) core::apply_memory_cap_from_env(o.device);
    }
    rep.device = o.device;
    core::set_current_device(o.device);
    rep.model = core::make_causal_lm(src.config, o, src.checkpoint, seed);
    rep.model->add_lora(lc, seed + 1);
    core::TrainConfig t = tc;
    if (set.sync) t.grad_sync = [s = set.sync.get(), r](const std::vector<torch::Tensor>& params) { s->average(r, params); };
    rep.trainer = std::make_unique<core::Trainer>(*rep.model, t);
    if (eliminates) {
      const auto ec = elimination_config(p);
      const std::string sel = p.value("selector", std::string("predictor"));
      if (sel != "predictor" && sel != "exact")
        throw core::Error(core::msg("train-bench: selector must be predictor or exact, got ", sel));
      rep.elim = std::make_unique<core::TokenEliminator>(
          *rep.model, ec, sel == "exact" ? core::TokenEliminator::Selector::Exact : core::TokenEliminator::Selector::Predictor,
          p.value("predictors", std::string()), seed + 3);
      rep.elim->set_timing(p.value("time_selection", false));
      rep.hooks = rep.elim->hooks();
      if (!p.value("fused_rows", true)) rep.hooks.token_block = 0;
    }
    if (groups > 1) rep.hooks.attention_groups = [groups](int64_t) { return groups; };
    set.replicas.push_back(std::move(rep));
  }
  core::set_current_device(set.replicas.front().device);
  set.pool = std::make_unique<core::RankPool>(gpus, set.sync.get());
  return set;
}

}  // namespace jenga::worker
