#include "harness/spec/experiment.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/experiment_parts.hpp"
#include "harness/spec/spec_files.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace jenga::harness {
namespace {

// Profile names an experiment may override: those in <root>/configs/profiles when the file sits
// in <root>/experiments/ and that folder has any; otherwise nothing to check against.
std::vector<std::string> known_profiles(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  if (dir.filename() != "experiments") return {};
  return yaml_stems((dir.parent_path() / "configs" / "profiles").string());
}

void read_profiles(const yaml::Node& node, const std::string& path, Experiment& e) {
  if (!node.is_map()) node.expected("a map of profile name -> matrix override");
  const std::vector<std::string> known = known_profiles(path);
  for (const auto& [name, value] : node.entries()) {
    if (!is_spec_name(name))
      throw Error("profile name '" + name + "' is not a valid name", value.key_where());
    if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end())
      throw Error("unknown profile '" + name + "'; known profiles: " + yaml::join(known), value.key_where());
    e.profiles[name] = detail::read_override(value);
  }
}

Experiment read_experiment(const std::string& path) {
  const yaml::Node root = yaml::load_file(path);
  const yaml::MapReader m(root, "experiment",
                          {"name", "paper", "description", "runs_from", "task", "matrix", "profiles", "quick", "figures",
                           "tables"});
  Experiment e;
  e.file = path;
  const yaml::Node name = m.require("name");
  e.name = name.as_string();
  const std::string stem = file_stem(path);
  if (e.name != stem) name.fail("experiment name '" + e.name + "' must equal the file stem '" + stem + "'");
  if (!is_spec_name(e.name)) name.expected("a name usable as a file stem ([A-Za-z0-9][A-Za-z0-9._-]*)");

  if (auto p = m.get("paper")) e.paper = p->as_string_list();
  if (auto d = m.get("description")) e.description = d->as_string();
  if (auto from = m.get("runs_from")) {
    for (const char* own : {"task", "matrix", "profiles", "quick"})
      if (auto n = m.get(own))
        n->fail(std::string("'") + own + "' belongs to the experiment named by runs_from; give one or the other");
    e.runs_from = from->as_string();
    if (!is_spec_name(e.runs_from) || e.runs_from == e.name)
      from->expected("the name of another experiment in the same folder");
    const fs::path src = fs::path(path).parent_path() / (e.runs_from + ".yaml");
    std::error_code ec;
    if (!fs::is_regular_file(src, ec)) from->fail("runs_from: no experiment file " + src.string());
    const Experiment owner = yaml::guarded(src.string(), [&] { return read_experiment(src.string()); });
    if (!owner.runs_from.empty())
      from->fail("runs_from: '" + e.runs_from + "' itself draws its runs from '" + owner.runs_from +
                 "'; name the experiment that owns them");
    e.task = owner.task;
    e.matrix = owner.matrix;
    e.profiles = owner.profiles;
    e.quick = owner.quick;
  } else {
    const yaml::Node task = m.require("task");
    e.task = task.as_string();
    if (!is_spec_name(e.task)) task.expected("a worker task name, e.g. \"train-bench\"");
    e.matrix = detail::read_matrix(m.require("matrix"), true);
    if (auto p = m.get("profiles")) read_profiles(*p, path, e);
    if (auto q = m.get("quick")) e.quick = detail::read_override(*q);
  }

  std::set<std::string> ids;
  if (auto figs = m.get("figures")) {
    if (!figs->is_list()) figs->expected("a list of figures");
    for (const yaml::Node& f : figs->items()) {
      FigureSpec fig = detail::read_figure(f, e.name);
      if (!ids.insert("figure:" + fig.id).second) f.fail("duplicate figure id '" + fig.id + "'");
      e.figures.push_back(std::move(fig));
    }
  }
  if (auto tabs = m.get("tables")) {
    if (!tabs->is_list()) tabs->expected("a list of tables");
    for (const yaml::Node& t : tabs->items()) {
      TableSpec tab = detail::read_table(t);
      if (!ids.insert("table:" + tab.id).second) t.fail("duplicate table id '" + tab.id + "'");
      e.tables.push_back(std::move(tab));
    }
  }
  return e;
}

}  // namespace

Experiment load_experiment(const std::string& path) {
  return yaml::guarded(path, [&] { return read_experiment(path); });
}

std::vector<Experiment> load_all_experiments(const std::string& root) {
  const fs::path dir = fs::path(root) / "experiments";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error("no experiments directory", Where{dir.string()});
  std::vector<Experiment> out;
  for (const std::string& stem : yaml_stems(dir.string()))
    out.push_back(load_experiment((dir / (stem + ".yaml")).string()));
  return out;
}

}  // namespace jenga::harness
