#include "harness/spec/experiment_parts.hpp"

#include "harness/spec/spec_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace jenga::harness::detail {
namespace {

ParamSet read_filter(const yaml::Node& node) {
  if (!node.is_map()) node.expected("a map of parameter -> value");
  ParamSet out = Json::object();
  for (const auto& [k, v] : node.entries()) {
    if (v.is_null()) v.expected("a value");
    out[k] = v.to_json();
  }
  return out;
}

// A name of a parameter or summary: when written, it may not be empty.
std::string read_name(const yaml::Node& node) {
  std::string s = node.as_string();
  if (s.empty()) node.expected("a non-empty name");
  return s;
}

// Display text for parameter names or values: `labels: {dense: without segment, "4096": 4K}`.
std::map<std::string, std::string> read_labels(const yaml::Node& node) {
  if (!node.is_map()) node.expected("a map of name or value -> display text");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : node.entries()) out[k] = v.as_string();
  return out;
}

double read_scale(const yaml::Node& node) {
  const double v = node.as_number();
  if (v == 0) node.expected("a non-zero number");
  return v;
}

std::string read_format(const yaml::Node& node) {
  std::string f = node.as_string();
  try {
    (void)fmt::format(fmt::runtime(f), 1.5);
  } catch (const fmt::format_error& e) {
    node.fail("format \"" + f + "\" is not a valid fmt format for a number: " + e.what());
  }
  return f;
}

std::string read_id(const yaml::MapReader& m) {
  const yaml::Node id = m.require("id");
  const std::string s = id.as_string();
  if (!is_spec_name(s)) id.expected("an id usable as a file name ([A-Za-z0-9][A-Za-z0-9._-]*)");
  return s;
}

}  // namespace

FigureSpec read_figure(const yaml::Node& node, const std::string& experiment) {
  const yaml::MapReader m(node, "figure",
                          {"id", "group", "type", "title", "x", "y", "stack", "series", "facet", "filter",
                           "x_label", "y_label", "y_scale", "log_x", "baseline", "annotate", "paper", "caption",
                           "labels", "x_scale", "log_y"});
  FigureSpec f;
  f.id = read_id(m);
  f.group = experiment;
  if (auto g = m.get("group")) {
    f.group = g->as_string();
    if (!is_spec_name(f.group)) g->expected("a folder name ([A-Za-z0-9][A-Za-z0-9._-]*)");
  }
  const yaml::Node type = m.require("type");
  f.type = type.as_string();
  const auto& types = kFigureTypes;
  if (std::find(std::begin(types), std::end(types), f.type) == std::end(types)) {
    std::vector<std::string> names(std::begin(types), std::end(types));
    type.expected("a figure type (one of " + yaml::join(names) + ")");
  }
  if (auto v = m.get("title")) f.title = v->as_string();
  if (auto v = m.get("x")) f.x = read_name(*v);
  if (auto v = m.get("y")) f.y = read_name(*v);
  if (auto v = m.get("stack")) f.stack = v->as_string_list();
  if (auto v = m.get("series")) f.series = read_name(*v);
  if (auto v = m.get("facet")) f.facet = read_name(*v);
  if (auto v = m.get("filter")) f.filter = read_filter(*v);
  if (auto v = m.get("x_label")) f.x_label = v->as_string();
  if (auto v = m.get("y_label")) f.y_label = v->as_string();
  if (auto v = m.get("y_scale")) f.y_scale = read_scale(*v);
  if (auto v = m.get("x_scale")) f.x_scale = read_scale(*v);
  if (auto v = m.get("log_x")) f.log_x = v->as_bool();
  if (auto v = m.get("log_y")) f.log_y = v->as_bool();
  if (auto v = m.get("paper")) f.paper = v->as_string();
  if (auto v = m.get("caption")) f.caption = v->as_string();
  if (auto v = m.get("labels")) f.labels = read_labels(*v);
  if (auto v = m.get("baseline")) f.baseline = read_name(*v);
  if (auto v = m.get("annotate")) {
    f.annotate = v->as_string();
    if (f.annotate != "speedup" && f.annotate != "reduction") v->expected("\"speedup\" or \"reduction\"");
    if (f.baseline.empty()) v->fail("annotate needs a `baseline` series to compare against");
  }

  // What each type draws decides which axes it cannot do without.
  const bool needs_x = f.type == "grouped_bars" || f.type == "lines" || f.type == "stacked_bars" || f.type == "heatmap";
  if (needs_x) m.require("x");
  if (f.type == "stacked_bars") {
    const yaml::Node stack = m.require("stack");
    if (f.stack.empty()) stack.expected("a non-empty list of summary names");
  } else {
    m.require("y");
  }
  return f;
}

namespace {

TableRatio read_ratio(const yaml::Node& node) {
  const yaml::MapReader m(node, "table ratio", {"value", "label", "unit", "scale", "format", "higher_is_better"});
  TableRatio r;
  r.value = read_name(m.require("value"));
  if (auto v = m.get("label")) r.label = v->as_string();
  if (auto v = m.get("unit")) r.unit = v->as_string();
  if (auto v = m.get("scale")) r.scale = read_scale(*v);
  if (auto v = m.get("format")) r.format = read_format(*v);
  if (auto v = m.get("higher_is_better")) r.higher_is_better = v->as_bool();
  return r;
}

}  // namespace

TableSpec read_table(const yaml::Node& node) {
  const yaml::MapReader m(node, "table",
                          {"id", "title", "rows", "columns", "value", "filter", "format", "type", "baseline",
                           "ratios", "scale", "paper", "caption", "labels"});
  TableSpec t;
  t.id = read_id(m);
  if (auto v = m.get("title")) t.title = v->as_string();
  if (auto v = m.get("type")) {
    t.type = v->as_string();
    if (t.type != "pivot" && t.type != "vs_baseline") v->expected("a table type (pivot or vs_baseline)");
  }
  // `rows: model` or `rows: [dataset, seq_len]` (one key column each; rows = the first).
  const yaml::Node rows = m.require("rows");
  if (rows.is_list()) {
    for (const yaml::Node& item : rows.items()) t.row_keys.push_back(read_name(item));
    if (t.row_keys.empty()) rows.expected("a parameter name or a non-empty list of them");
    t.rows = t.row_keys.front();
  } else {
    t.rows = read_name(rows);
  }
  if (auto v = m.get("columns")) t.columns = read_name(*v);
  if (auto v = m.get("filter")) t.filter = read_filter(*v);
  if (auto v = m.get("format")) t.format = read_format(*v);
  if (auto v = m.get("scale")) t.scale = read_scale(*v);
  if (auto v = m.get("paper")) t.paper = v->as_string();
  if (auto v = m.get("caption")) t.caption = v->as_string();
  if (auto v = m.get("labels")) t.labels = read_labels(*v);
  if (auto v = m.get("baseline")) t.baseline = read_name(*v);
  if (auto v = m.get("ratios")) {
    if (!v->is_list()) v->expected("a list of ratios ({value, label, unit, scale, format, higher_is_better})");
    for (const yaml::Node& item : v->items()) t.ratios.push_back(read_ratio(item));
  }
  if (t.type == "vs_baseline") {
    // Values and ratios per `columns` value against `baseline`; `value` is not used.
    m.require("columns");
    m.require("baseline");
    const yaml::Node ratios = m.require("ratios");
    if (t.ratios.empty()) ratios.expected("a non-empty list of ratios");
    if (auto v = m.get("value")) t.value = read_name(*v);
  } else {
    t.value = read_name(m.require("value"));
  }
  return t;
}

}  // namespace jenga::harness::detail
