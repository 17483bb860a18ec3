// jenga report <experiment>: one row per indexed run with its varying parameters, status and
// main summary values.
#include "harness/cli/commands.hpp"
#include "harness/common/error.hpp"
#include "harness/report/report.hpp"
#include "harness/report/results_summary.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;

int cmd_report(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"markdown", false, false, "", "a Markdown table"},
      {"results", false, false, "", "the results summary: our runs beside the paper and the HF+PEFT anchor"},
      {"profile", true, false, "NAME", "with --results: only this profile's runs"},
      {"reference", true, false, "FILE", "with --results: reference numbers (default configs/paper/reference.yaml)"},
      {"out", true, false, "FILE", "with --results: write there (e.g. docs/results.md) instead of stdout"},
  };
  if (wants_help(args)) {
    std::cout << command_help("jenga report <experiment> [--markdown] | jenga report --results [--profile P] [--out FILE]",
                              "Prints the experiment's indexed runs: the parameters that vary, status, summary values\n"
                              "and, for runs that did not end ok, why. --results instead puts every train-bench run's\n"
                              "peak memory and step time beside the paper's A800 numbers and the HF+PEFT anchor.",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "report");
  const Globals g = resolve_globals(a, base);
  if (!std::filesystem::exists(g.db)) throw Error("no results database at " + g.db + " (run `jenga ingest`)");
  if (a.has("results")) {
    if (!a.positionals().empty()) throw Error("report: --results takes no experiment name");
    const std::string ref = a.has("reference") ? a.get("reference") : g.root + "/configs/paper/reference.yaml";
    const auto points = load_reference_points(ref);
    Store store(g.db);
    if (!a.has("out")) {
      render_results_summary(store, points, a.has("profile") ? a.get("profile") : "", std::cout);
      return kExitOk;
    }
    // Written beside the target and renamed over it: an interrupted report never leaves half a file.
    const std::string out = a.get("out"), tmp = out + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      if (!f) throw Error("report: cannot write " + tmp);
      render_results_summary(store, points, a.has("profile") ? a.get("profile") : "", f);
      if (!f) throw Error("report: writing " + tmp + " failed");
    }
    std::filesystem::rename(tmp, out);
    std::cout << "wrote " << out << "\n";
    return kExitOk;
  }
  if (a.positionals().size() != 1) throw Error("report: name one experiment; see jenga report --help");
  Store store(g.db);
  if (a.has("markdown"))
    render_report_markdown(store, a.positionals()[0], std::cout);
  else
    render_report(store, a.positionals()[0], std::cout);
  return kExitOk;
}

}  // namespace jenga::cli
