// The command line and environment one run's worker gets:
//   <worker> <prefix args...> <task> --run-key <key> --params <params JSON> [--model-spec <JSON>]
// with CUDA_VISIBLE_DEVICES for its slot, JENGA_MEMORY_CAP_GIB (when the profile caps memory),
// JENGA_RUN_KEY, JENGA_PROFILE, and the caller's extra variables.
#pragma once

#include "harness/plan/plan.hpp"
#include "harness/run/scheduler.hpp"
#include "harness/spec/profile.hpp"

#include <map>
#include <string>
#include <vector>

namespace jenga::harness {

// {name, family, hf_config (absolute), checkpoint (absolute or ""), source} for
// configs/models/<model>.yaml under `repo_root`; Error (from the spec loader) if absent.
Json model_spec_json(const std::string& repo_root, const std::string& model);

// argv[1..] for the worker. `model_spec` is passed when non-null.
std::vector<std::string> worker_args(const PlannedRun& run, const SchedulerOptions& opt, const Json* model_spec);

// Number of concurrent runs the profile allows: max(1, gpus * slots_per_gpu).
int slot_count(const Profile& profile);

// CUDA_VISIBLE_DEVICES for slot `slot` (0-based): the GPU index slot / slots_per_gpu, or ""
// for a CPU-only profile (gpus == 0), which hides every GPU.
std::string visible_devices(const Profile& profile, int slot);

// GPUs a run asks for: params.gpus (data parallelism inside one worker), default 1. Such a run
// sees GPUs 0..n-1 and has the machine to itself. Error when it is not a positive integer.
int gpus_needed(const PlannedRun& run);

// The child's whole environment: `base` plus the variables above (extra_env last, so it wins).
std::map<std::string, std::string> worker_env(std::map<std::string, std::string> base, const PlannedRun& run,
                                              const Profile& profile, int slot, const SchedulerOptions& opt);

}  // namespace jenga::harness
