// One training loop for every method: forward (hooks decide which tokens each layer attends),
// loss (segmented by default), backward, gradient clipping, AdamW over the trainable parameters
// (LoRA adapters; every weight when pre-training) with warmup + constant/cosine schedule.
// A non-finite loss or gradient norm throws DivergedError.
#pragma once

#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/train/profiler.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace torch::optim {
class AdamW;
}

namespace jenga::core {

class DivergedError : public Error {
 public:
  using Error::Error;
};

struct TrainConfig {
  double lr = 2e-5;
  // Weight decay applies to adapters and to trained matrices; never to trained norms or biases.
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;         // for the cosine schedule
  std::string schedule = "constant";  // "constant" | "cosine" (both after linear warmup)
  double min_lr_ratio = 0.0;       // the cosine schedule ends at lr · min_lr_ratio
  double grad_clip = 1.0;          // max global L2 norm; <= 0 disables
  bool segmented_loss = true;
  int64_t loss_chunk = 2048;
  bool timeline = false;           // per-layer allocation timeline in StepResult::timeline
  // Data parallelism: called after backward with the trainable parameters, before clipping
  // (e.g. GradAllReduce::average); its time is the phase "allreduce".
  std::function<void(const std::vector<torch::Tensor>&)> grad_sync;
};

struct StepResult {
  int64_t step = 0;
  double loss = 0, grad_norm = 0, lr = 0;
  std::vector<std::pair<std::string, double>> phase_ms;            // forward, backward, optimizer
  std::vector<std::pair<std::string, MemoryStats>> phase_memory;   // after each phase
  MemoryStats peak;                                                // over the whole step
  std::vector<TimelinePoint> timeline;                             // when TrainConfig::timeline
};

class Trainer {
 public:
  Trainer(CausalLM& model, TrainConfig cfg);
  ~Trainer();
  // One optimizer step on one sequence (int64 [S]) or a batch of equal-length sequences
  // ([B, S]); labels are the next tokens within each sequence.
  StepResult step(const torch::Tensor& ids, const LayerHooks& hooks = {});
  double lr_at(int64_t step) const;
  // Re-times the cosine schedule to end at `total_steps` (e.g. once a time budget is known).
  void set_total_steps(int64_t total_steps);
  const TrainConfig& config() const { return cfg_; }

 private:
  CausalLM& model_;
  TrainConfig cfg_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  StepProfiler profiler_;
  int64_t step_ = 0;
};

}  // namespace jenga::core
