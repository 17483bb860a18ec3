// jenga ingest: (re)index logs/ into the results database. Idempotent; unchanged logs are
// skipped unless --force; entries whose log is gone are removed.
#include "harness/cli/commands.hpp"
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;

int cmd_ingest(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"force", false, false, "", "re-read every log, changed or not"},
      {"problems", true, false, "N", "show at most N malformed lines (default 20)"},
  };
  if (wants_help(args)) {
    std::cout << command_help("jenga ingest [--force]",
                              "Reads every logs/**/*.jsonl into the results database, one transaction per run. Running\n"
                              "it twice changes nothing; malformed lines are reported and kept as text.",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "ingest");
  const Globals g = resolve_globals(a, base);
  if (!a.positionals().empty()) throw Error("ingest: unexpected argument '" + a.positionals()[0] + "'");
  const int max_problems = a.get_int("problems", 20, 0);

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(g.db).parent_path(), ec);
  Store store(g.db);
  const IngestStats s = ingest_tree(store, g.logs, g.root, a.has("force"));
  int shown = 0;
  for (const auto& p : s.problems) {
    if (shown++ >= max_problems) break;
    std::cerr << fmt::format("{}:{}: {}\n", p.file, p.line, p.what);
  }
  if (static_cast<int>(s.problems.size()) > max_problems)
    std::cerr << fmt::format("... and {} more problems\n", s.problems.size() - max_problems);
  std::cout << fmt::format("{} logs: {} ingested, {} unchanged, {} failed ({} problems) -> {}\n", s.files_seen,
                           s.files_ingested, s.files_skipped, s.files_failed, s.problems.size(), g.db);
  return s.files_failed > 0 ? kExitFailed : kExitOk;
}

}  // namespace jenga::cli
