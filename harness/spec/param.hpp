// Parameter values and parameter sets: JSON scalars/arrays/objects, keys sorted (canonical).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <utility>
#include <string>
#include <vector>

namespace jenga::harness {

using Json = nlohmann::json;

// One run's parameters: name -> JSON value. nlohmann::json objects keep keys sorted, so
// dump() of a ParamSet is canonical and is what the run key hashes.
using ParamSet = Json;

// Sweep axes in declared order: parameter name -> candidate values (cartesian product).
using SweepAxes = std::vector<std::pair<std::string, std::vector<Json>>>;

}  // namespace jenga::harness
