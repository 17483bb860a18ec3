#include "harness/plan/plan.hpp"

#include "harness/common/error.hpp"

#include <algorithm>
#include <set>

namespace jenga::harness {
namespace {

// A value "$name" refers to profile.sizes[name]; "$$..." stands for a literal "$...".
bool is_ref(const Json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() >= 2 && s[0] == '$' && s[1] != '$';
}

bool is_escaped(const Json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() >= 2 && s[0] == '$' && s[1] == '$';
}

class Resolver {
 public:
  Resolver(const Experiment& exp, const Profile& profile) : exp_(exp), profile_(profile) {}

  const std::vector<Json>& lookup(const Json& ref, const std::string& where) const {
    const std::string name = ref.get<std::string>().substr(1);
    auto it = profile_.sizes.find(name);
    if (it == profile_.sizes.end()) {
      std::vector<std::string> defined;
      for (const auto& [k, v] : profile_.sizes) defined.push_back("$" + k);
      std::string list;
      for (size_t i = 0; i < defined.size(); ++i) list += (i ? ", " : "") + defined[i];
      throw Error("experiment '" + exp_.name + "': " + where + " refers to size \"$" + name +
                      "\", which profile '" + profile_.name + "' (" + profile_.file + ") does not define" +
                      "; it defines: " + (list.empty() ? std::string("(no sizes)") : list),
                  Where{exp_.file});
    }
    return it->second;
  }

  // A whole value: a one-element size list becomes its element, a longer one the list itself.
  Json value(const Json& v, const std::string& where) const {
    if (is_escaped(v)) return v.get<std::string>().substr(1);
    if (!is_ref(v)) return v;
    const std::vector<Json>& sizes = lookup(v, where);
    return sizes.size() == 1 ? sizes.front() : Json(sizes);
  }

  // A sweep axis: each reference is spliced in place by the profile's list.
  std::vector<Json> axis(const std::vector<Json>& values, const std::string& where) const {
    std::vector<Json> out;
    for (const Json& v : values) {
      if (is_ref(v)) {
        const auto& sizes = lookup(v, where);
        out.insert(out.end(), sizes.begin(), sizes.end());
      } else {
        out.push_back(value(v, where));
      }
    }
    return out;
  }

  ParamSet params(const ParamSet& p, const std::string& where) const {
    ParamSet out = Json::object();
    for (const auto& [k, v] : p.items()) out[k] = value(v, where + "." + k);
    return out;
  }

 private:
  const Experiment& exp_;
  const Profile& profile_;
};

// Keys an override fixes or sweeps replace the base's, whichever of fixed/sweep they were in.
void apply(Matrix& m, const MatrixOverride& o) {
  for (const auto& [k, v] : o.fixed.items()) {
    m.fixed[k] = v;
    m.sweep.erase(std::remove_if(m.sweep.begin(), m.sweep.end(), [&](const auto& axis) { return axis.first == k; }),
                  m.sweep.end());
  }
  for (const auto& [k, values] : o.sweep) {
    auto it = std::find_if(m.sweep.begin(), m.sweep.end(), [&](const auto& axis) { return axis.first == k; });
    if (it != m.sweep.end()) it->second = values;
    else m.sweep.emplace_back(k, values);
    m.fixed.erase(k);
  }
  m.include.insert(m.include.end(), o.include.begin(), o.include.end());
  m.exclude.insert(m.exclude.end(), o.exclude.begin(), o.exclude.end());
}

bool matches(const ParamSet& params, const ParamSet& pattern) {
  for (const auto& [k, v] : pattern.items()) {
    auto it = params.find(k);
    if (it == params.end() || *it != v) return false;
  }
  return true;
}

}  // namespace

std::string run_key(const std::string& experiment, const ParamSet& params, const std::string& profile) {
  std::string dumped;
  try {
    dumped = params.dump();
  } catch (const Json::exception& e) {
    throw Error("run parameters cannot be serialised: " + std::string(e.what()));
  }
  return sha256_hex(experiment + "\n" + dumped + "\n" + profile).substr(0, 16);
}

std::vector<PlannedRun> expand(const Experiment& exp, const Profile& profile, const PlanOptions& opt) {
  Matrix m = exp.matrix;
  if (auto it = exp.profiles.find(profile.name); it != exp.profiles.end()) apply(m, it->second);
  if (opt.quick && exp.quick) apply(m, *exp.quick);

  const Resolver r(exp, profile);
  const ParamSet fixed = r.params(m.fixed, "matrix.fixed");
  SweepAxes axes;
  for (const auto& [k, values] : m.sweep) axes.emplace_back(k, r.axis(values, "matrix.sweep." + k));
  std::vector<ParamSet> excludes;
  for (const ParamSet& e : m.exclude) {
    ParamSet pattern = r.params(e, "matrix.exclude");
    // A pattern naming no parameter of this matrix can never match: almost surely a typo.
    for (const auto& [k, v] : pattern.items()) {
      const bool known = fixed.contains(k) ||
                         std::any_of(axes.begin(), axes.end(), [&](const auto& a) { return a.first == k; });
      if (!known)
        throw Error("experiment '" + exp.name + "': exclude pattern names parameter '" + k +
                        "', which is neither fixed nor swept (profile '" + profile.name + "')",
                    Where{exp.file});
    }
    excludes.push_back(std::move(pattern));
  }

  std::vector<PlannedRun> runs;
  std::set<std::string> seen;
  auto add = [&](ParamSet params) {
    PlannedRun run;
    run.key = run_key(exp.runs_name(), params, profile.name);
    if (!seen.insert(run.key).second) return;
    run.experiment = exp.runs_name();
    run.profile = profile.name;
    run.task = exp.task;
    run.params = std::move(params);
    runs.push_back(std::move(run));
  };

  // Cartesian product, first axis slowest (an odometer whose last digit turns fastest).
  const bool empty_axis = std::any_of(axes.begin(), axes.end(), [](const auto& a) { return a.second.empty(); });
  if (!empty_axis) {
    std::vector<size_t> idx(axes.size(), 0);
    while (true) {
      ParamSet params = fixed;
      for (size_t a = 0; a < axes.size(); ++a) params[axes[a].first] = axes[a].second[idx[a]];
      if (std::none_of(excludes.begin(), excludes.end(), [&](const ParamSet& e) { return matches(params, e); }))
        add(std::move(params));
      size_t a = axes.size();
      while (a > 0 && ++idx[a - 1] == axes[a - 1].second.size()) idx[--a] = 0;
      if (a == 0) break;
    }
  }

  // Include rows are explicit runs: exclude patterns do not apply to them.
  for (const ParamSet& row : m.include) {
    ParamSet params = fixed;
    const ParamSet resolved = r.params(row, "matrix.include");
    for (const auto& [k, v] : resolved.items()) params[k] = v;
    add(std::move(params));
  }
  return runs;
}

}  // namespace jenga::harness
