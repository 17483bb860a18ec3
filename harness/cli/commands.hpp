// The `jenga` subcommands and what they share: the global options (--root, --db, --logs) and
// how their defaults are found. Each cmd_<name>.cpp holds one subcommand.
// Exit codes: 0 all well, 1 some runs (or files) failed, 2 usage or spec error.
#pragma once

#include "harness/cli/args.hpp"

#include <string>
#include <vector>

namespace jenga::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct Globals {
  std::string root;   // repository root (experiments/, configs/)
  std::string db;     // results.sqlite
  std::string logs;   // logs/
  std::string self;   // absolute path of the running jenga binary ("" if unknown)
};

// Options every subcommand accepts (and `jenga` itself before the subcommand).
std::vector<OptionSpec> global_options();

// Applies --root/--db/--logs from `args` over `base`, then fills what is still empty:
// root from the working directory upwards (else the source tree), db and logs under root.
Globals resolve_globals(const ParsedArgs& args, Globals base);

// `jenga <cmd> --help` text: usage line, description, options (the globals listed last).
std::string command_help(const std::string& usage, const std::string& description,
                         const std::vector<OptionSpec>& own);

// True when `--help` is among the args (checked before parsing, so it works with bad args too).
bool wants_help(const std::vector<std::string>& args);

int cmd_list(const std::vector<std::string>& args, const Globals& g);
int cmd_run(const std::vector<std::string>& args, const Globals& g);
int cmd_status(const std::vector<std::string>& args, const Globals& g);
int cmd_ingest(const std::vector<std::string>& args, const Globals& g);
int cmd_report(const std::vector<std::string>& args, const Globals& g);
int cmd_plot(const std::vector<std::string>& args, const Globals& g);   // cmd_plot.cpp (issue 3)
int cmd_table(const std::vector<std::string>& args, const Globals& g);  // cmd_table.cpp (issue 3)

}  // namespace jenga::cli
