// The runs a figure or table of one experiment draws from: what the index holds (optionally of
// one profile) and what the plan expected but no log shows. Shared by plot/ and table/.
#pragma once

#include "harness/spec/experiment.hpp"
#include "harness/store/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jenga::harness {

// Status of a planned run that no log shows.
inline constexpr const char* kNotRun = "not run";

struct SelectOptions {
  std::string repo_root;  // configs/profiles/ (planned runs, memory caps); "" = do not plan
  std::string profile;    // only runs of this profile; also planned when nothing is indexed
};

// One value a run contributes: a summary value (no tags) or one metric record (its tags).
struct Observation {
  std::optional<double> value;  // absent: the metric was null
  Json tags = Json::object();
  std::string unit;             // metric unit ("" for summary values)
};

class RunSet {
 public:
  // Indexed runs of `exp` (sorted by key) and planned runs without a log, expanded under every
  // profile the indexed runs used (or opt.profile). Planning problems become warnings.
  static RunSet load(const Store& store, const Experiment& exp, const SelectOptions& opt);

  const Experiment& experiment() const { return *exp_; }
  const std::vector<RunRow>& runs() const { return runs_; }
  // Planned runs with no log, as rows with status "not run", no log path and no provenance.
  const std::vector<RunRow>& not_run() const { return not_run_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The run's values named `name`: its summary value if it has one, else its metric records of
  // that name (one per record); empty when it has neither.
  std::vector<Observation> observations(const RunRow& run, const std::string& name) const;
  std::vector<StepRow> steps(const RunRow& run) const;

  // "NVIDIA H100 80GB HBM3 (memory cap 48 GiB)" for these runs; distinct GPUs joined by ", ";
  // "" when none of them says.
  std::string hardware(const std::vector<const RunRow*>& runs) const;

 private:
  std::optional<double> memory_cap_gib(const RunRow& run) const;

  const Store* store_ = nullptr;
  const Experiment* exp_ = nullptr;
  std::string repo_root_;
  std::vector<RunRow> runs_;
  std::vector<RunRow> not_run_;
  std::map<std::string, Json> summaries_;  // run key -> summary
  std::vector<std::string> warnings_;
  mutable std::map<std::string, std::optional<double>> profile_caps_;
};

// A parameter of a run for grouping: the metric's tag, else the run's parameter, else (for
// "profile") the run's profile. nullopt when none has it. (No other pseudo-parameters: a tag
// such as LongBench's "task" must never be mistaken for the worker task.)
std::optional<Json> lookup_key(const Json& params, const RunRow* run, const Json& tags, const std::string& key);

// True when every filter key matches: equal values, or (filter value a list) any of its items.
// Keys are looked up as lookup_key() does; a key found nowhere matches only if `absent_matches`
// (a failed or never-run run has no metric tags yet may belong to the cell).
bool matches_filter(const Json& params, const RunRow* run, const Json& tags, const ParamSet& filter,
                    bool absent_matches);

// Text of a parameter value: strings verbatim, integers without a point, booleans as words.
std::string value_text(const Json& v);

}  // namespace jenga::harness
