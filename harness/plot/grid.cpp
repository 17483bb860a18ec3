#include "harness/plot/grid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace jenga::harness {

namespace {

using Coords = std::vector<std::optional<Json>>;

struct Pending {
  Coords coords;  // nullopt: the run does not say (failed before its metrics): every value
  CellSource src;
};

std::vector<std::string> texts(const std::vector<Json>& coords) {
  std::vector<std::string> out;
  out.reserve(coords.size());
  for (const Json& c : coords) out.push_back(c.dump());
  return out;
}

// Parameters that tell runs apart, ignoring the seed: two ok runs differing only in seed are
// repeats whose mean is a fair summary; differing in anything else, they measure different things.
Json identity(const CellSource& s) {
  Json j = s.run->params;
  if (j.is_object()) j.erase("seed");
  return Json{{"params", j}, {"tags", s.tags}, {"profile", s.run->profile}};
}

std::string differing_keys(const std::vector<const CellSource*>& ok) {
  std::set<std::string> keys;
  const Json first = identity(*ok.front());
  for (const CellSource* s : ok) {
    const Json other = identity(*s);
    for (const char* part : {"params", "tags"}) {
      const Json& a = first[part];
      const Json& b = other[part];
      for (auto it = a.begin(); it != a.end(); ++it)
        if (!b.contains(it.key()) || b[it.key()] != it.value()) keys.insert(it.key());
      for (auto it = b.begin(); it != b.end(); ++it)
        if (!a.contains(it.key())) keys.insert(it.key());
    }
    if (first["profile"] != other["profile"]) keys.insert("profile");
  }
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

void resolve(Cell& cell) {
  std::vector<const CellSource*> ok;
  for (const CellSource& s : cell.sources)
    if (s.run->status == "ok" && s.value) ok.push_back(&s);
  if (!ok.empty()) {
    const Json first = identity(*ok.front());
    const bool repeats = std::all_of(ok.begin(), ok.end(), [&](const CellSource* s) { return identity(*s) == first; });
    if (!repeats) {
      cell.status = "ambiguous";
      cell.note = fmt::format("{} ok runs differ in {}: add a filter", ok.size(), differing_keys(ok));
      return;
    }
    double sum = 0;
    for (const CellSource* s : ok) sum += *s->value;
    cell.value = sum / static_cast<double>(ok.size());
    cell.status = "ok";
    if (ok.size() > 1) cell.note = fmt::format("mean of {} values", ok.size());
    return;
  }
  // No value: show the most telling reason.
  const CellSource* best = nullptr;
  std::string best_status;
  for (const CellSource& s : cell.sources) {
    const std::string st = s.run->status == "ok" ? "no value" : s.run->status;
    if (best == nullptr || cell_status_rank(st) < cell_status_rank(best_status)) {
      best = &s;
      best_status = st;
    }
  }
  cell.status = best_status;
  if (best_status == "no value")
    cell.note = "the run ended ok but logged no such value";
  else if (best_status == kNotRun)
    cell.note = "planned, never run";
  else
    cell.note = best->run->message;
}

}  // namespace

Json normalise_value(const Json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return Json(static_cast<std::int64_t>(d));
  }
  if (v.is_number_unsigned()) return Json(static_cast<std::int64_t>(v.get<std::uint64_t>()));
  return v;
}

std::string cell_mark(const std::string& status) {
  if (status == "oom") return "OOM";
  if (status == "no value") return "no data";
  return status;
}

int cell_status_rank(const std::string& status) {
  static const char* const order[] = {"oom",     "timeout", "diverged",  "error",    "crashed",
                                      "killed",  "running", "ambiguous", "no value", kNotRun};
  for (int i = 0; i < static_cast<int>(std::size(order)); ++i)
    if (status == order[i]) return i;
  return static_cast<int>(std::size(order)) - 1;  // unknown statuses: just above "not run"
}

std::vector<Json> order_values(const Experiment& exp, const std::string& key, std::vector<Json> values) {
  for (Json& v : values) v = normalise_value(v);
  const bool numeric = std::all_of(values.begin(), values.end(), [](const Json& v) { return v.is_number(); });
  if (numeric) {
    std::sort(values.begin(), values.end(), [](const Json& a, const Json& b) { return a.get<double>() < b.get<double>(); });
    return values;
  }
  std::vector<Json> declared;
  auto add = [&](const Json& v) {
    const Json n = normalise_value(v);
    if (std::find(declared.begin(), declared.end(), n) == declared.end()) declared.push_back(n);
  };
  auto from_axes = [&](const SweepAxes& axes) {
    for (const auto& [name, vals] : axes)
      if (name == key)
        for (const Json& v : vals) add(v);
  };
  from_axes(exp.matrix.sweep);
  for (const auto& [name, o] : exp.profiles) from_axes(o.sweep);
  if (exp.quick) from_axes(exp.quick->sweep);
  for (const ParamSet& row : exp.matrix.include)
    if (row.is_object() && row.contains(key)) add(row[key]);
  if (exp.matrix.fixed.is_object() && exp.matrix.fixed.contains(key)) add(exp.matrix.fixed[key]);

  std::vector<Json> out;
  for (const Json& d : declared)
    if (std::find(values.begin(), values.end(), d) != values.end()) out.push_back(d);
  for (const Json& v : values)
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

const Cell* Grid::at(const std::vector<Json>& coords) const {
  std::vector<Json> n;
  n.reserve(coords.size());
  for (const Json& c : coords) n.push_back(normalise_value(c));
  const auto it = cells.find(texts(n));
  return it == cells.end() ? nullptr : &it->second;
}

Grid build_grid(const RunSet& set, const GridSpec& spec) {
  Grid g;
  g.dims = spec.dims;
  const std::size_t nd = spec.dims.size();
  std::vector<std::vector<Json>> seen(nd);
  std::vector<Pending> pending;
  std::set<std::string> units;

  auto coords_of = [&](const RunRow& run, const Json& tags) {
    Coords c(nd);
    for (std::size_t d = 0; d < nd; ++d) {
      if (spec.dims[d].empty()) {
        c[d] = Json();
        continue;
      }
      if (auto v = lookup_key(run.params, &run, tags, spec.dims[d])) c[d] = normalise_value(*v);
    }
    return c;
  };
  auto add = [&](Coords coords, CellSource src) {
    for (std::size_t d = 0; d < nd; ++d)
      if (coords[d] && std::find(seen[d].begin(), seen[d].end(), *coords[d]) == seen[d].end())
        seen[d].push_back(*coords[d]);
    pending.push_back({std::move(coords), std::move(src)});
  };
  // A run with no values to place (failed, never run, or ok without this value) belongs to every
  // cell its parameters allow: a LongBench run that OOMed is missing in each task's row.
  auto add_valueless = [&](const RunRow& run) {
    if (!matches_filter(run.params, &run, Json::object(), spec.filter, /*absent_matches=*/true)) return;
    CellSource src;
    src.run = &run;
    add(coords_of(run, Json::object()), std::move(src));
  };

  for (const RunRow& run : set.runs()) {
    if (run.status != "ok") {
      add_valueless(run);
      continue;
    }
    if (!matches_filter(run.params, &run, Json::object(), spec.filter, /*absent_matches=*/true)) continue;
    const std::vector<Observation> obs = set.observations(run, spec.value);
    if (obs.empty()) {
      add_valueless(run);
      continue;
    }
    for (const Observation& o : obs) {
      if (!matches_filter(run.params, &run, o.tags, spec.filter, /*absent_matches=*/false)) continue;
      if (!o.unit.empty()) units.insert(o.unit);
      CellSource src;
      src.run = &run;
      src.value = o.value;
      src.tags = o.tags;
      add(coords_of(run, o.tags), std::move(src));
    }
  }
  for (const RunRow& run : set.not_run()) add_valueless(run);
  if (units.size() == 1) g.unit = *units.begin();

  g.axes.resize(nd);
  for (std::size_t d = 0; d < nd; ++d)
    g.axes[d] = spec.dims[d].empty() ? std::vector<Json>{Json()} : order_values(set.experiment(), spec.dims[d], seen[d]);

  for (Pending& p : pending) {
    // Expand unknown coordinates over the axis, odometer-style.
    std::vector<std::vector<Json>> choices(nd);
    bool placeable = true;
    for (std::size_t d = 0; d < nd; ++d) {
      choices[d] = p.coords[d] ? std::vector<Json>{*p.coords[d]} : g.axes[d];
      if (choices[d].empty()) placeable = false;
    }
    if (!placeable) {
      std::string missing;
      for (std::size_t d = 0; d < nd; ++d)
        if (choices[d].empty()) missing += (missing.empty() ? "" : ", ") + spec.dims[d];
      g.notes.push_back(fmt::format("run {} ({}) not shown: no '{}' to place it by", p.src.run->key,
                                    p.src.run->status, missing));
      continue;
    }
    std::vector<std::size_t> idx(nd, 0);
    while (true) {
      std::vector<Json> at(nd);
      for (std::size_t d = 0; d < nd; ++d) at[d] = choices[d][idx[d]];
      g.cells[texts(at)].sources.push_back(p.src);
      bool done = true;
      for (std::size_t d = nd; d-- > 0;) {
        if (++idx[d] < choices[d].size()) {
          done = false;
          break;
        }
        idx[d] = 0;
      }
      if (done) break;
    }
  }
  for (auto& [coords, cell] : g.cells) resolve(cell);
  return g;
}

}  // namespace jenga::harness
