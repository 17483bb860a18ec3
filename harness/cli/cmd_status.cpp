// jenga status [experiment]: runs per status from the results database, and the runs that did
// not end ok with their messages and logs.
#include "harness/cli/commands.hpp"
#include "harness/common/error.hpp"
#include "harness/report/report.hpp"

#include <filesystem>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;

int cmd_status(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"profile", true, false, "NAME", "only runs of this profile"},
      {"markdown", false, false, "", "Markdown tables"},
      {"all", false, false, "", "list every run that is not ok (default: the first 50)"},
  };
  if (wants_help(args)) {
    std::cout << command_help("jenga status [experiment] [--profile NAME] [--markdown]",
                              "Counts the indexed runs per experiment and status, then lists the runs that did not end\n"
                              "ok. Reads the database only: after copying logs in, run `jenga ingest` first.",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "status");
  const Globals g = resolve_globals(a, base);
  if (a.positionals().size() > 1) throw Error("status: at most one experiment, got '" + a.positionals()[1] + "'");
  if (!std::filesystem::exists(g.db)) {
    std::cout << "no results database at " << g.db << " (`jenga run` or `jenga ingest` creates it)\n";
    return kExitOk;
  }
  Store store(g.db);
  StatusOptions opt;
  if (!a.positionals().empty()) opt.filter.experiment = a.positionals()[0];
  opt.filter.profile = a.get("profile");
  opt.list_not_ok = true;
  if (a.has("all")) opt.max_listed = static_cast<std::size_t>(-1) / 2;
  opt.format = a.has("markdown") ? TableFormat::Markdown : TableFormat::Text;
  render_status_table(store, std::cout, opt);
  return kExitOk;
}

}  // namespace jenga::cli
