// jenga: the harness CLI. `jenga [global options] <command> [args]`; see `jenga --help`.
#include "harness/cli/commands.hpp"
#include "harness/common/error.hpp"

#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace jenga::cli;

struct Command {
  const char* name;
  const char* summary;
  std::function<int(const std::vector<std::string>&, const Globals&)> fn;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"list", "experiments, their paper figures, task and run counts per profile", cmd_list},
      {"run", "run an experiment's sweep (or all) on a hardware profile", cmd_run},
      {"status", "what the results database knows: runs per status", cmd_status},
      {"ingest", "index logs/ into the results database (idempotent)", cmd_ingest},
      {"report", "an experiment's results as a table", cmd_report},
      {"plot", "draw figures (gnuplot) from the indexed runs", cmd_plot},
      {"table", "write tables (Markdown, CSV, LaTeX) from the indexed runs", cmd_table},
  };
  return list;
}

std::string main_help() {
  std::string s =
      "usage: jenga [global options] <command> [options]\n\n"
      "The experiment harness: runs workers per hardware profile, keeps one JSON-lines log per run\n"
      "under logs/, and indexes the logs into a SQLite database.\n\ncommands:\n";
  for (const auto& c : commands()) s += "  " + std::string(c.name) + std::string(8 - std::string(c.name).size(), ' ') + c.summary + "\n";
  s += "\nglobal options:\n" + options_help(global_options());
  s += "\n`jenga <command> --help` describes a command. Exit codes: 0 ok, 1 some runs failed, 2 usage or spec error.\n";
  return s;
}

std::string self_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pager or pipe on our output must not end a sweep (workers get SIGPIPE back).
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    // Global options before the command.
    std::size_t i = 0;
    std::vector<std::string> leading;
    while (i < args.size() && args[i].rfind("-", 0) == 0) {
      leading.push_back(args[i]);
      const bool takes_value = args[i] == "--root" || args[i] == "--db" || args[i] == "--logs";
      if (takes_value && i + 1 < args.size()) leading.push_back(args[++i]);
      ++i;
    }
    const ParsedArgs g_args = parse_args(leading, global_options(), "");
    if (i == args.size()) {
      if (g_args.has("help")) {
        std::cout << main_help();
        return kExitOk;
      }
      std::cerr << main_help();
      return kExitUsage;
    }
    Globals g;
    g.self = self_path();
    for (const char* k : {"root", "db", "logs"})
      if (g_args.has(k)) {
        const std::string v = std::filesystem::absolute(g_args.get(k)).lexically_normal().string();
        (std::string(k) == "root" ? g.root : std::string(k) == "db" ? g.db : g.logs) = v;
      }
    const std::string name = args[i];
    const std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    if (name == "help") {
      std::cout << main_help();
      return kExitOk;
    }
    for (const auto& c : commands())
      if (name == c.name) return c.fn(rest, g);
    std::cerr << "jenga: unknown command '" << name << "'\n\n" << main_help();
    return kExitUsage;
  } catch (const jenga::harness::Error& e) {
    std::cerr << "jenga: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "jenga: " << e.what() << "\n";
    return kExitUsage;
  }
}
