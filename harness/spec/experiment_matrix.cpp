#include "harness/spec/experiment_parts.hpp"

#include "harness/spec/spec_files.hpp"

#include <algorithm>

namespace jenga::harness::detail {

bool is_size_ref(const Json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  return s.size() >= 2 && s[0] == '$' && s[1] != '$';
}

std::string size_ref_name(const Json& v) { return v.get<std::string>().substr(1); }

namespace {

// A parameter value: any non-null YAML value; "$name" must name a size validly.
Json read_value(const yaml::Node& node) {
  if (node.is_null()) node.expected("a value");
  Json v = node.to_json();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!s.empty() && s[0] == '$' && (s.size() < 2 || s[1] != '$') && !is_spec_name(s.substr(1)))
      node.fail(node.path() + ": \"" + s + "\" is not a valid size reference (\"$name\"; write \"$$\" for a literal \"$\")");
  }
  return v;
}

void check_param_name(const std::string& name, const yaml::Node& value) {
  if (!is_spec_name(name))
    throw Error("parameter name '" + name + "' is not a valid name ([A-Za-z0-9][A-Za-z0-9._-]*)", value.key_where());
}

ParamSet read_params(const yaml::Node& node, const std::string& what) {
  if (!node.is_map()) node.expected("a map of parameter -> value (" + what + ")");
  ParamSet out = Json::object();
  for (const auto& [k, v] : node.entries()) {
    check_param_name(k, v);
    out[k] = read_value(v);
  }
  return out;
}

SweepAxes read_sweep(const yaml::Node& node) {
  if (!node.is_map()) node.expected("a map of parameter -> list of values");
  SweepAxes axes;
  for (const auto& [k, v] : node.entries()) {
    check_param_name(k, v);
    std::vector<Json> values;
    if (v.is_list()) {
      for (const yaml::Node& item : v.items()) values.push_back(read_value(item));
    } else {
      // A whole axis may come from the profile: `seq_len: $lengths`.
      const Json one = v.is_scalar() && !v.is_null() ? read_value(v) : Json();
      if (!is_size_ref(one)) v.expected("a list of values or a \"$size\" reference");
      values.push_back(one);
    }
    axes.emplace_back(k, std::move(values));
  }
  return axes;
}

std::vector<ParamSet> read_rows(const yaml::Node& node, const std::string& what) {
  if (!node.is_list()) node.expected("a list of parameter maps");
  std::vector<ParamSet> rows;
  for (const yaml::Node& item : node.items()) {
    if (!item.is_map()) item.expected("a map of parameter -> value (" + what + " row)");
    ParamSet row = read_params(item, what);
    if (row.empty()) item.expected("a non-empty map (" + what + " row)");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Matrix read_matrix(const yaml::Node& node, bool base) {
  const yaml::MapReader m(node, base ? "matrix" : "matrix override", {"fixed", "sweep", "include", "exclude"});
  Matrix out;
  if (auto f = m.get("fixed")) out.fixed = read_params(*f, "fixed");
  if (auto s = m.get("sweep")) {
    out.sweep = read_sweep(*s);
    for (const auto& [k, v] : s->entries())
      if (out.fixed.contains(k)) throw Error("parameter '" + k + "' is both fixed and swept", v.key_where());
  }
  if (auto i = m.get("include")) out.include = read_rows(*i, "include");
  if (auto e = m.get("exclude")) out.exclude = read_rows(*e, "exclude");
  return out;
}

MatrixOverride read_override(const yaml::Node& node) {
  Matrix m = read_matrix(node, false);
  MatrixOverride o;
  o.fixed = std::move(m.fixed);
  o.sweep = std::move(m.sweep);
  o.include = std::move(m.include);
  o.exclude = std::move(m.exclude);
  return o;
}

}  // namespace jenga::harness::detail
