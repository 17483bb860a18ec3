// jenga table: writes the tables declared in experiments/*.yaml from the results database
// (ingesting logs/ first) as tables/<id>.{md,csv,tex} with <id>.sources.txt.
#include "harness/cli/commands.hpp"
#include "harness/cli/table.hpp"
#include "harness/common/error.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/spec/select_outputs.hpp"
#include "harness/table/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace jenga::cli {

using namespace jenga::harness;
namespace fs = std::filesystem;

void ingest_if_stale(Store& store, const Globals& g);        // cmd_plot.cpp
bool paper_order(const std::string& a, const std::string& b);  // cmd_plot.cpp

int cmd_table(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"all", false, false, "", "every table declared in experiments/"},
      {"list", false, false, "", "print the tables (paper id -> output files) without writing"},
      {"profile", true, false, "NAME", "only runs of this hardware profile (default: all runs)"},
      {"out", true, false, "DIR", "output folder (default: <root>/tables)"},
      {"no-ingest", false, false, "", "do not index logs/ first"},
      {"print", false, false, "", "also print each table's Markdown"},
  };
  if (wants_help(args)) {
    std::cout << command_help("jenga table [TABLE|EXPERIMENT|PAPER-ID ...] [--all]",
                              "Writes tables declared in experiments/*.yaml from the indexed runs as Markdown, CSV and\n"
                              "LaTeX (booktabs): tables/<id>.{md,csv,tex}, plus <id>.sources.txt listing every run and\n"
                              "log file behind each cell. Missing cells read \"OOM\" or \"—\", never a number.",
                              own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "jenga table");
  const Globals g = resolve_globals(a, base);

  const std::vector<Experiment> experiments = load_all_experiments(g.root);
  if (a.positionals().empty() && !a.has("all") && !a.has("list")) {
    throw Error("jenga table: name tables, experiments or paper ids, or pass --all; tables: " +
                declared_ids(experiments, &Experiment::tables));
  }
  const std::vector<TableRef> tables = select_tables(experiments, a.positionals());
  TableOptions opt;
  opt.repo_root = g.root;
  opt.out_dir = a.get("out", (fs::path(g.root) / "tables").string());
  opt.profile = a.get("profile");
  auto shown = [&](const std::string& id) {
    std::error_code ec;
    const fs::path rel = fs::relative(fs::path(opt.out_dir) / id, g.root, ec);
    return (ec || rel.string().rfind("..", 0) == 0 ? (fs::path(opt.out_dir) / id).string() : rel.string());
  };
  auto paper_of = [](const Experiment& e, const std::string& own) {
    if (!own.empty()) return own;
    std::string s;
    for (const std::string& p : e.paper) s += (s.empty() ? "" : ", ") + p;
    return s.empty() ? std::string("-") : s;
  };

  if (a.has("list")) {
    std::vector<Row> rows = {{"paper", "experiment", "table", "output"}};
    for (const TableRef& t : tables) {
      std::error_code ec;
      const bool exists = fs::exists(fs::path(opt.out_dir) / (t.table->id + ".md"), ec);
      rows.push_back({paper_of(*t.experiment, t.table->paper), t.experiment->name, t.table->id,
                      shown(t.table->id) + ".{md,csv,tex}" + (exists ? "" : "  (not written yet)")});
    }
    std::stable_sort(rows.begin() + 1, rows.end(), [](const Row& a, const Row& b) { return paper_order(a[0], b[0]); });
    std::cout << format_table(rows);
    return kExitOk;
  }

  std::error_code ec;
  fs::create_directories(fs::path(g.db).parent_path(), ec);
  Store store(g.db);
  if (!a.has("no-ingest")) ingest_if_stale(store, g);
  const std::vector<TableResult> results = write_tables(store, tables, opt);
  std::vector<Row> rows = {{"paper", "table", "output", "status"}};
  int failed = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const TableResult& r = results[i];
    std::string status = r.error.empty() ? "written" : "FAILED";
    if (!r.warnings.empty()) status += fmt::format(" ({} warning{})", r.warnings.size(), r.warnings.size() == 1 ? "" : "s");
    rows.push_back({paper_of(*tables[i].experiment, tables[i].table->paper), r.id, shown(r.id) + ".{md,csv,tex}", status});
    if (!r.error.empty()) {
      ++failed;
      std::cerr << "jenga table: " << r.id << ": " << r.error << "\n";
    }
    for (const std::string& w : r.warnings) std::cerr << "jenga table: " << r.id << ": " << w << "\n";
    if (a.has("print") && r.error.empty()) {
      std::ifstream f(fs::path(opt.out_dir) / (r.id + ".md"));
      std::cout << f.rdbuf() << "\n";
    }
  }
  std::cout << format_table(rows);
  if (tables.empty()) std::cout << "(no tables declared in " << g.root << "/experiments)\n";
  return failed > 0 ? kExitFailed : kExitOk;
}

}  // namespace jenga::cli
