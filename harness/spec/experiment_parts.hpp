// Readers for the pieces of an experiment file (matrix, overrides, figures, tables); internal
// to the spec module, split out to keep experiment.cpp about the file as a whole.
#pragma once

#include "harness/spec/experiment.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <string>
#include <vector>

namespace jenga::harness::detail {

// A value that refers to a profile size: "$name" (but "$$..." is a literal "$...").
bool is_size_ref(const Json& v);
std::string size_ref_name(const Json& v);  // "lengths" for "$lengths"

// `base` true: the experiment's own matrix (only changes what messages call it). A key may not
// be both fixed and swept in one matrix.
Matrix read_matrix(const yaml::Node& node, bool base);
MatrixOverride read_override(const yaml::Node& node);

inline constexpr const char* kFigureTypes[] = {"grouped_bars", "lines", "stacked_bars",
                                               "loss_curve", "memory_timeline", "heatmap"};

FigureSpec read_figure(const yaml::Node& node, const std::string& experiment);
TableSpec read_table(const yaml::Node& node);

}  // namespace jenga::harness::detail
