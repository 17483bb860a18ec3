#include "harness/cli/commands.hpp"

#include "harness/run/repo_root.hpp"

#include <filesystem>

namespace jenga::cli {

namespace fs = std::filesystem;

std::vector<OptionSpec> global_options() {
  return {
      {"root", true, false, "DIR", "repository root (default: nearest parent with experiments/ and configs/)"},
      {"db", true, false, "PATH", "results database (default: <root>/results.sqlite)"},
      {"logs", true, false, "DIR", "run logs (default: <root>/logs)"},
      {"help", false, false, "", "show this help"},
  };
}

Globals resolve_globals(const ParsedArgs& args, Globals g) {
  auto absolute = [](const std::string& p) { return fs::absolute(p).lexically_normal().string(); };
  if (args.has("root")) g.root = absolute(args.get("root"));
  if (args.has("db")) g.db = absolute(args.get("db"));
  if (args.has("logs")) g.logs = absolute(args.get("logs"));
  if (g.root.empty()) g.root = harness::find_repo_root(fs::current_path().string());
  if (g.root.empty()) g.root = fs::current_path().string();
  if (g.db.empty()) g.db = (fs::path(g.root) / "results.sqlite").string();
  if (g.logs.empty()) g.logs = (fs::path(g.root) / "logs").string();
  return g;
}

std::string command_help(const std::string& usage, const std::string& description,
                         const std::vector<OptionSpec>& own) {
  std::string s = "usage: " + usage + "\n\n" + description + "\n";
  if (!own.empty()) s += "\noptions:\n" + options_help(own);
  s += "\nglobal options:\n" + options_help(global_options());
  return s;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace jenga::cli
