// A hardware profile (configs/profiles/<name>.yaml): the GPU it describes and what fits on it.
#pragma once

#include "harness/spec/param.hpp"

#include <optional>
#include <string>
#include <vector>

namespace jenga::harness {

struct Profile {
  std::string name;            // file stem, e.g. "h100"
  std::string file;            // path it was read from
  std::string description;
  std::string gpu_pattern;     // ECMAScript regex the worker's GPU name must match ("" = any, e.g. cpu)
  double memory_gib = 0;       // device memory of the card described
  std::optional<double> memory_cap_gib;  // cap handed to workers (a larger card standing in)
  int gpus = 1;                // GPUs to use (CUDA_VISIBLE_DEVICES 0..gpus-1); 0 = CPU only
  int slots_per_gpu = 1;       // concurrent runs per GPU
  double timeout_s = 3600;     // per-run wall-clock limit
  // Named sweep sizes that fit this card, e.g. "lengths" -> [4096, 8192]. An experiment's sweep
  // value written as the string "$lengths" takes this list.
  std::map<std::string, std::vector<Json>> sizes;
};

// Reads and validates one profile file; throws Error with file:line:col on any problem
// (unknown key, wrong type, missing required key, bad regex).
Profile load_profile(const std::string& path);

// Loads configs/profiles/<name>.yaml under `root`; Error lists the available names if absent.
Profile find_profile(const std::string& root, const std::string& name);

}  // namespace jenga::harness
