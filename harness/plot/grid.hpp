// One value per cell of a grid of parameters (figure: facet x series x x; table: rows x column),
// each cell knowing the runs it came from. A cell whose runs did not end ok holds no value, only
// their status; nothing is ever filled in.
#pragma once

#include "harness/plot/select.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jenga::harness {

struct CellSource {
  const RunRow* run = nullptr;   // into the RunSet (indexed or not-run row)
  std::optional<double> value;   // the observation, when the run was ok and had it
  Json tags = Json::object();
};

struct Cell {
  std::optional<double> value;   // set only when status == "ok"
  std::string status;            // ok | oom | timeout | ... | "not run" | "no value" | "ambiguous"
  std::string note;              // why there is no value, or "mean of N runs"
  std::vector<CellSource> sources;
};

struct GridSpec {
  std::vector<std::string> dims;  // parameter names; "" = a dimension with one empty value
  std::string value;              // summary or metric name
  ParamSet filter = Json::object();
};

struct Grid {
  std::vector<std::string> dims;
  std::vector<std::vector<Json>> axes;        // distinct values per dimension, in display order
  std::map<std::vector<std::string>, Cell> cells;  // coordinate texts -> cell (where runs exist)
  std::string unit;                           // the metrics' unit when they agree
  std::vector<std::string> notes;             // runs that could not be placed, and why

  const Cell* at(const std::vector<Json>& coords) const;  // nullptr when no run maps there
};

Grid build_grid(const RunSet& set, const GridSpec& spec);

// Display order of a dimension's values: numbers ascending; otherwise the order the experiment
// declares them (sweep, include rows, fixed), then the rest in the order given (the order the
// logs first show them, e.g. a benchmark's own task order).
std::vector<Json> order_values(const Experiment& exp, const std::string& key, std::vector<Json> values);

// 4096.0 -> 4096: the same parameter value from YAML or JSON compares and prints one way.
Json normalise_value(const Json& v);

// Short text for a status shown where a value would be: "OOM", "timeout", "not run", ...
std::string cell_mark(const std::string& status);

// Statuses ranked for a cell with no ok value: the most telling one is shown (oom first).
int cell_status_rank(const std::string& status);

}  // namespace jenga::harness
