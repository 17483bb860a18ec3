#include "harness/plot/select.hpp"

#include "harness/common/error.hpp"
#include "harness/plan/plan.hpp"
#include "harness/spec/profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace jenga::harness {

namespace {

bool value_matches(const Json& have, const Json& want) {
  if (have == want) return true;
  // YAML reads 4096 as an integer and 4096.0 as a float; the same number either way.
  if (have.is_number() && want.is_number()) return have.get<double>() == want.get<double>();
  if (want.is_array())
    return std::any_of(want.begin(), want.end(), [&](const Json& w) { return value_matches(have, w); });
  return false;
}

std::string format_gib(double gib) {
  return std::floor(gib) == gib ? fmt::format("{:.0f}", gib) : fmt::format("{:.1f}", gib);
}

}  // namespace

std::optional<Json> lookup_key(const Json& params, const RunRow* run, const Json& tags, const std::string& key) {
  if (key.empty()) return std::nullopt;
  if (tags.is_object()) {
    if (const auto it = tags.find(key); it != tags.end()) return *it;
  }
  if (params.is_object()) {
    if (const auto it = params.find(key); it != params.end()) return *it;
  }
  if (run != nullptr && key == "profile") return Json(run->profile);
  return std::nullopt;
}

bool matches_filter(const Json& params, const RunRow* run, const Json& tags, const ParamSet& filter,
                    bool absent_matches) {
  if (!filter.is_object()) return true;
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    const auto have = lookup_key(params, run, tags, it.key());
    if (!have) {
      if (!absent_matches) return false;
      continue;
    }
    if (!value_matches(*have, it.value())) return false;
  }
  return true;
}

std::string value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e15) return fmt::format("{:.0f}", d);
    return fmt::format("{:g}", d);
  }
  return v.dump();
}

RunSet RunSet::load(const Store& store, const Experiment& exp, const SelectOptions& opt) {
  RunSet s;
  s.store_ = &store;
  s.exp_ = &exp;
  s.repo_root_ = opt.repo_root;
  RunFilter f;
  f.experiment = exp.runs_name();
  f.profile = opt.profile;
  s.runs_ = store.runs(f);
  std::sort(s.runs_.begin(), s.runs_.end(), [](const RunRow& a, const RunRow& b) { return a.key < b.key; });
  std::set<std::string> keys;
  for (const RunRow& r : s.runs_) keys.insert(r.key);
  for (const auto& [key, name, value] : store.summary_values(exp.runs_name()))
    if (keys.count(key) != 0) s.summaries_[key][name] = value;

  if (opt.repo_root.empty()) return s;
  std::set<std::string> profiles;
  for (const RunRow& r : s.runs_) profiles.insert(r.profile);
  if (!opt.profile.empty()) profiles.insert(opt.profile);
  std::set<std::string> planned;
  for (const std::string& name : profiles) {
    try {
      const Profile profile = find_profile(opt.repo_root, name);
      for (PlannedRun& p : expand(exp, profile)) {
        if (keys.count(p.key) != 0 || !planned.insert(p.key).second) continue;
        RunRow r;
        r.key = std::move(p.key);
        r.experiment = std::move(p.experiment);
        r.profile = std::move(p.profile);
        r.task = std::move(p.task);
        r.params = std::move(p.params);
        r.status = kNotRun;
        s.not_run_.push_back(std::move(r));
      }
    } catch (const Error& e) {
      s.warnings_.push_back(fmt::format("{}: cannot list the runs planned under profile '{}', so runs never run "
                                        "are not marked: {}",
                                        exp.name, name, e.what()));
    }
  }
  return s;
}

std::vector<Observation> RunSet::observations(const RunRow& run, const std::string& name) const {
  std::vector<Observation> out;
  if (const auto it = summaries_.find(run.key); it != summaries_.end()) {
    if (const auto v = it->second.find(name); v != it->second.end() && v->is_number()) {
      Observation o;
      o.value = v->get<double>();
      out.push_back(std::move(o));
      return out;
    }
  }
  for (const MetricRow& m : store_->metrics(run.key)) {
    if (m.name != name) continue;
    Observation o;
    if (!m.is_null) o.value = m.value;
    o.tags = m.tags.is_object() ? m.tags : Json::object();
    o.unit = m.unit;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<StepRow> RunSet::steps(const RunRow& run) const { return store_->steps(run.key); }

std::optional<double> RunSet::memory_cap_gib(const RunRow& run) const {
  for (const Json* j : {&run.provenance, &run.params}) {
    if (const auto it = j->find("memory_cap_gib"); it != j->end() && it->is_number()) return it->get<double>();
  }
  if (repo_root_.empty() || run.profile.empty()) return std::nullopt;
  const auto cached = profile_caps_.find(run.profile);
  if (cached != profile_caps_.end()) return cached->second;
  std::optional<double> cap;
  const auto path = std::filesystem::path(repo_root_) / "configs" / "profiles" / (run.profile + ".yaml");
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    try {
      cap = load_profile(path.string()).memory_cap_gib;
    } catch (const Error&) {
      // A broken profile file is `jenga check`'s to report; the title then names no cap.
    }
  }
  profile_caps_[run.profile] = cap;
  return cap;
}

std::string RunSet::hardware(const std::vector<const RunRow*>& runs) const {
  std::vector<std::string> parts;
  for (const RunRow* r : runs) {
    std::string gpu;
    if (const auto it = r->provenance.find("gpu"); it != r->provenance.end() && it->is_string())
      gpu = it->get<std::string>();
    if (gpu == "none" || gpu.empty()) {
      const auto dev = r->provenance.find("device");
      if (dev != r->provenance.end() && dev->is_string() && dev->get<std::string>().rfind("cpu", 0) == 0)
        gpu = "CPU";
      else if (gpu.empty())
        continue;  // a run that died before its start record says nothing about hardware
      else
        gpu = "no GPU";
    }
    if (const auto cap = memory_cap_gib(*r)) gpu += " (memory cap " + format_gib(*cap) + " GiB)";
    if (std::find(parts.begin(), parts.end(), gpu) == parts.end()) parts.push_back(gpu);
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace jenga::harness
