// docs/results.md: our measured peak memory and step time beside the paper's A800 numbers and the
// HF+PEFT anchor (configs/paper/reference.yaml), per model, length and checkpointing.
#pragma once

#include "harness/store/store.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace jenga::harness {

// One reference measurement: a source (paper-a800, hf-peft-h100, ...), a run's coordinates and
// what was measured (either number may be missing; oom marks a run that did not fit).
struct ReferencePoint {
  std::string source, model, method;
  std::int64_t seq_len = 0;
  bool checkpointing = false;
  std::optional<double> peak_mib, step_ms;
  bool oom = false;
};

// Reads `points:` from the file; Error with file:line on anything malformed.
std::vector<ReferencePoint> load_reference_points(const std::string& path);

// The Markdown summary of the store's ok train-bench runs (only `profile`'s, when not empty)
// beside the reference points. Missing numbers are shown as missing, never filled in.
void render_results_summary(Store& store, const std::vector<ReferencePoint>& reference, const std::string& profile,
                            std::ostream& out);

}  // namespace jenga::harness
