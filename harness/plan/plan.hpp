// Expansion of an experiment under a profile into concrete runs with stable keys.
#pragma once

#include "harness/spec/experiment.hpp"
#include "harness/spec/profile.hpp"

#include <string>
#include <vector>

namespace jenga::harness {

struct PlannedRun {
  std::string key;          // run_key(experiment, params, profile)
  std::string experiment;
  std::string profile;
  std::string task;
  ParamSet params;          // normalised (sorted keys, "$size" references resolved)
};

struct PlanOptions {
  bool quick = false;       // apply the experiment's `quick` override
};

// Stable key: first 16 hex digits of SHA-256 over "experiment\nparams.dump()\nprofile".
std::string run_key(const std::string& experiment, const ParamSet& params, const std::string& profile);

// Base matrix, then the profile's override, then quick. Order of runs: the sweep's cartesian
// product in the order axes are declared (first axis slowest), then include rows; duplicates
// (same key) are dropped. Throws Error if a "$size" reference is not defined by the profile.
// Details: an override key replaces the base's whether it was fixed or swept (a swept axis keeps
// its position). "$name" in a sweep list splices the profile's list in; as a whole fixed/include/
// exclude value it becomes the size's single value, or the list if it has several; "$$x" is the
// literal "$x". Exclude patterns apply to the product only (include rows are explicit), and a
// pattern naming a parameter that is neither fixed nor swept is an Error (a typo, surely).
std::vector<PlannedRun> expand(const Experiment& exp, const Profile& profile, const PlanOptions& opt = {});

// SHA-256 of bytes as 64 lowercase hex digits (used for run keys; exposed for tests).
std::string sha256_hex(const std::string& bytes);

}  // namespace jenga::harness
