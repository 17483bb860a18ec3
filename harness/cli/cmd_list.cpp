// jenga list: every experiment with its paper ids, task, and how many runs each profile plans.
#include "harness/cli/commands.hpp"
#include "harness/cli/table.hpp"
#include "harness/common/error.hpp"
#include "harness/plan/plan.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/spec/profile.hpp"
#include "harness/spec/spec_files.hpp"

#include <filesystem>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;

int cmd_list(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {{"quick", false, false, "", "count runs of the quick variant"}};
  if (wants_help(args)) {
    std::cout << command_help("jenga list [--quick]",
                              "Lists experiments/*.yaml: paper figures/tables, worker task, and the number of runs\n"
                              "each profile in configs/profiles/ would plan (\"!\" where planning fails).",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "list");
  if (!a.positionals().empty()) throw Error("list: unexpected argument '" + a.positionals()[0] + "'");
  const Globals g = resolve_globals(a, base);

  const auto experiments = load_all_experiments(g.root);
  std::vector<Profile> profiles;
  for (const auto& name : yaml_stems((std::filesystem::path(g.root) / "configs" / "profiles").string()))
    profiles.push_back(find_profile(g.root, name));

  std::vector<Row> rows;
  Row head = {"experiment", "paper", "task"};
  for (const auto& p : profiles) head.push_back(p.name);
  rows.push_back(head);
  std::vector<std::string> problems;
  PlanOptions po;
  po.quick = a.has("quick");
  for (const auto& e : experiments) {
    std::string paper;
    for (const auto& p : e.paper) paper += (paper.empty() ? "" : ", ") + p;
    Row r = {e.name, paper.empty() ? "-" : paper, e.runs_from.empty() ? e.task : e.task + " (" + e.runs_from + "'s runs)"};
    for (const auto& p : profiles) {
      try {
        r.push_back(std::to_string(expand(e, p, po).size()));
      } catch (const Error& err) {
        r.push_back("!");
        problems.push_back(e.name + " on " + p.name + ": " + err.what());
      }
    }
    rows.push_back(r);
  }
  std::cout << format_table(rows);
  if (experiments.empty()) std::cout << "(no experiments in " << g.root << "/experiments)\n";
  for (const auto& p : problems) std::cerr << "jenga: " << p << "\n";
  return problems.empty() ? kExitOk : kExitUsage;
}

}  // namespace jenga::cli
