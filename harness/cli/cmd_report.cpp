// jenga report <experiment>: one row per indexed run with its varying parameters, status and
// main summary values.
#include "harness/cli/commands.hpp"
#include "harness/common/error.hpp"
#include "harness/report/report.hpp"

#include <filesystem>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;

int cmd_report(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {{"markdown", false, false, "", "a Markdown table"}};
  if (wants_help(args)) {
    std::cout << command_help("jenga report <experiment> [--markdown]",
                              "Prints the experiment's indexed runs: the parameters that vary, status, summary values\n"
                              "and, for runs that did not end ok, why.",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "report");
  const Globals g = resolve_globals(a, base);
  if (a.positionals().size() != 1) throw Error("report: name one experiment; see jenga report --help");
  if (!std::filesystem::exists(g.db)) throw Error("no results database at " + g.db + " (run `jenga ingest`)");
  Store store(g.db);
  if (a.has("markdown"))
    render_report_markdown(store, a.positionals()[0], std::cout);
  else
    render_report(store, a.positionals()[0], std::cout);
  return kExitOk;
}

}  // namespace jenga::cli
