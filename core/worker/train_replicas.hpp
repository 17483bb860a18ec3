// train-bench's model replicas: one per device for data parallelism (params.gpus), each with its
// LoRA adapters, trainer and token eliminator, built identically from the same seeds so the
// replicas start equal; a GradAllReduce keeps them equal step after step.
#pragma once

#include "model_source.hpp"
#include "task.hpp"

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/sparsity/token_elimination.hpp"
#include "jenga/core/train/data_parallel.hpp"
#include "jenga/core/train/trainer.hpp"

#include <memory>
#include <vector>

namespace jenga::worker {

struct Replica {
  torch::Device device = torch::kCPU;
  std::unique_ptr<core::CausalLM> model;
  std::unique_ptr<core::Trainer> trainer;
  std::unique_ptr<core::TokenEliminator> elim;  // methods that eliminate tokens
  core::LayerHooks hooks;
};

struct ReplicaSet {
  std::unique_ptr<core::GradAllReduce> sync;  // null with one replica
  std::vector<Replica> replicas;
  std::unique_ptr<core::RankPool> pool;       // one thread per replica but the first, kept across steps
};

// `gpus` replicas: CUDA device r for replica r when mo.device is CUDA (Error if fewer are
// visible), all on the CPU otherwise (the averaging still runs: tests, CPU smoke runs).
// `method_name` decides elimination (jenga, 2d, offload) and attention groups.
ReplicaSet build_replicas(const Json& params, const ModelSource& src, const core::ModelOptions& mo, const core::TrainConfig& tc,
                          int gpus, bool eliminates, int64_t attention_groups, uint64_t seed);

}  // namespace jenga::worker
