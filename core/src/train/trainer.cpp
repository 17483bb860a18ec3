#include "jenga/core/train/trainer.hpp"

#include "jenga/core/train/loss.hpp"

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>

namespace jenga::core {

Trainer::Trainer(CausalLM& model, TrainConfig cfg)
    : model_(model), cfg_(std::move(cfg)), profiler_(model.options().device) {
  const auto params = model_.trainable_parameters();
  if (params.empty()) throw Error("Trainer: the model has no trainable parameters (add LoRA adapters or train the base weights)");
  if (cfg_.schedule != "constant" && cfg_.schedule != "cosine") throw Error(msg("Trainer: unknown schedule '", cfg_.schedule, "'"));
  if (cfg_.schedule == "cosine" && cfg_.total_steps <= cfg_.warmup_steps)
    throw Error(msg("Trainer: cosine schedule needs total_steps > warmup_steps, got ", cfg_.total_steps, " <= ", cfg_.warmup_steps));
  if (!(cfg_.min_lr_ratio >= 0.0 && cfg_.min_lr_ratio <= 1.0))
    throw Error(msg("Trainer: min_lr_ratio must be in [0, 1], got ", cfg_.min_lr_ratio));
  const auto options = [&](double decay) {
    auto o = torch::optim::AdamWOptions(cfg_.lr);
    o.betas({cfg_.beta1, cfg_.beta2}).eps(cfg_.eps).weight_decay(decay);
    return o;
  };
  // Trained norms and biases (1-D) are not decayed: decay would pull RMSNorm scales towards 0.
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& p : params) (model_.base_weights_trained() && p.dim() < 2 ? plain : decayed).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(options(cfg_.weight_decay)));
  if (!plain.empty()) groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(options(0.0)));
  opt_ = std::make_unique<torch::optim::AdamW>(groups, options(cfg_.weight_decay));
}

Trainer::~Trainer() = default;

void Trainer::set_total_steps(int64_t total_steps) {
  if (cfg_.schedule == "cosine" && total_steps <= cfg_.warmup_steps)
    throw Error(msg("Trainer: cosine schedule needs total_steps > warmup_steps, got ", total_steps, " <= ", cfg_.warmup_steps));
  cfg_.total_steps = total_steps;
}

double Trainer::lr_at(int64_t step) const {
  if (step < cfg_.warmup_steps) return cfg_.lr * static_cast<double>(step + 1) / static_cast<double>(cfg_.warmup_steps);
  if (cfg_.schedule == "constant") return cfg_.lr;
  const double progress = static_cast<double>(step - cfg_.warmup_steps) / static_cast<double>(cfg_.total_steps - cfg_.warmup_steps);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
  return cfg_.lr * (cfg_.min_lr_ratio + (1.0 - cfg_.min_lr_ratio) * cosine);
}

StepResult Trainer::step(const torch::Tensor& ids, const LayerHooks& hooks) {
  StepResult r;
  r.step = step_;
  r.lr = lr_at(step_);
  for (auto& group : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(r.lr);

  const auto device = model_.options().device;
  const auto ids_dev = ids.to(device);
  const auto labels = next_token_labels(ids_dev);
  profiler_.begin_step();
  LayerHooks h = hooks;
  if (cfg_.timeline) {
    auto user = hooks.mark;
    h.mark = [this, user](const std::string& label) {
      profiler_.mark(label);
      if (user) user(label);
    };
  }
  const auto hidden = model_.forward_hidden(ids_dev, h);
  const auto loss = cfg_.segmented_loss ? segmented_lm_loss(hidden, model_.lm_head_weight(), labels, cfg_.loss_chunk)
                                        : dense_lm_loss(hidden, model_.lm_head_weight(), labels);
  profiler_.end_phase("forward");
  loss.backward();
  profiler_.end_phase("backward");
  const auto params = model_.trainable_parameters();
  if (cfg_.grad_sync) {
    cfg_.grad_sync(params);
    profiler_.end_phase("allreduce");
  }
  // Clipping reads the norm back to the host (one sync, inside the optimizer phase).
  const double norm = cfg_.grad_clip > 0 ? torch::nn::utils::clip_grad_norm_(params, cfg_.grad_clip) : 0.0;
  opt_->step();
  opt_->zero_grad();
  profiler_.end_phase("optimizer");
  r.phase_ms = profiler_.phase_ms();  // synchronises
  r.phase_memory = profiler_.phase_memory();
  r.peak = profiler_.step_peak();
  if (cfg_.timeline) r.timeline = profiler_.timeline();
  r.loss = loss.item<double>();
  r.grad_norm = norm;
  if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm))
    throw DivergedError(msg("step ", step_, ": loss ", r.loss, ", gradient norm ", r.grad_norm));
  ++step_;
  return r;
}

}  // namespace jenga::core
