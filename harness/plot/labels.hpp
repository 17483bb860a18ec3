// Human text for figures and tables: names of quantities, their units (read from the naming
// convention of summary values: *_mib, *_ms, *_per_s, ...), tick and legend text.
#pragma once

#include "harness/spec/param.hpp"

#include <map>
#include <string>

namespace jenga::harness {

using Labels = std::map<std::string, std::string>;

// "peak_allocated_mib" -> "peak allocated memory", "seq_len" -> "sequence length".
std::string humanize(const std::string& name);

// Unit of a quantity after multiplying by `scale`: "_mib" with 1/1024 -> "GiB", "_ms" with
// 1e-3 -> "s". `metric_unit` (from metric records) wins when given and scale is 1. "" if unknown.
std::string unit_of(const std::string& name, double scale, const std::string& metric_unit = {});

// `explicit_label` if set, else "humanized name (unit)". `labels` may rename the quantity.
std::string axis_label(const std::string& explicit_label, const std::string& name, double scale,
                       const std::string& metric_unit, const Labels& labels);

// Tick/legend text of a parameter value: labels[value] if present; 4096 -> "4K" for lengths;
// a boolean as "<name>: yes/no".
std::string value_label(const std::string& key, const Json& value, const Labels& labels);

// Larger is better for this quantity (throughput, accuracy), so ratios are method / baseline.
bool higher_is_better(const std::string& name);

// A number for a label: 3 significant digits, no exponent for ordinary magnitudes.
std::string short_number(double v);

}  // namespace jenga::harness
