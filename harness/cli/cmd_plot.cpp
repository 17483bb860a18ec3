// jenga plot: draws the figures declared in experiments/*.yaml from the results database
// (ingesting logs/ first; unchanged logs are skipped), by gnuplot, into output_figures/<group>/.
#include "harness/cli/commands.hpp"
#include "harness/cli/table.hpp"
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "harness/plot/plot.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/spec/select_outputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <tuple>

namespace jenga::cli {

using namespace jenga::harness;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    std::size_t start = 0;
    while (start <= v.size()) {
      const std::size_t end = std::min(v.find(',', start), v.size());
      if (end > start) out.push_back(v.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

std::string paper_of(const Experiment& e, const std::string& own) {
  if (!own.empty()) return own;
  std::string s;
  for (const std::string& p : e.paper) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "-" : s;
}

std::string relative(const std::string& path, const std::string& root) {
  std::error_code ec;
  const fs::path rel = fs::relative(path, root, ec);
  return ec || rel.empty() || rel.string().rfind("..", 0) == 0 ? path : rel.string();
}

}  // namespace

// "Fig 9" before "Fig 12" before "Table 6"; ids without a paper ("-") last.
bool paper_order(const std::string& a, const std::string& b) {
  auto key = [](const std::string& s) {
    const auto digit = s.find_first_of("0123456789");
    const std::string head = s.substr(0, digit);
    const long number = digit == std::string::npos ? 0 : std::strtol(s.c_str() + digit, nullptr, 10);
    return std::make_tuple(s == "-" ? 1 : 0, head, number, s);
  };
  return key(a) < key(b);
}

// Brings the index up to date with logs/ (cheap when nothing changed); problems are warnings.
void ingest_if_stale(Store& store, const Globals& g) {
  std::error_code ec;
  if (!fs::is_directory(g.logs, ec)) return;
  const IngestStats s = ingest_tree(store, g.logs, g.root);
  if (s.files_ingested > 0 || s.files_failed > 0)
    std::cerr << fmt::format("jenga: indexed {} new or changed log(s) ({} failed, {} problems)\n", s.files_ingested,
                             s.files_failed, s.problems.size());
}

int cmd_plot(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"all", false, false, "", "every figure declared in experiments/"},
      {"list", false, false, "", "print the figures (paper id -> output files) without drawing"},
      {"profile", true, false, "NAME", "only runs of this hardware profile (default: all runs)"},
      {"out", true, false, "DIR", "output folder (default: <root>/output_figures)"},
      {"format", true, true, "FMT", "png, pdf, svg; repeatable or comma-separated (default: png,pdf)"},
      {"no-render", false, false, "", "write data, scripts and sources only (old images are removed)"},
      {"no-ingest", false, false, "", "do not index logs/ first"},
      {"jobs", true, false, "N", "gnuplot processes at once (default: number of cores)"},
      {"gnuplot", true, false, "PATH", "the gnuplot program (default: gnuplot on PATH)"},
      {"verbose", false, false, "", "print every warning (default: the first 3 per figure)"},
  };
  if (wants_help(args)) {
    std::cout << command_help(
        "jenga plot [FIGURE|EXPERIMENT|PAPER-ID ...] [--all]",
        "Draws figures declared in experiments/*.yaml from the indexed runs (logs/ is ingested first).\n"
        "Each figure writes output_figures/<group>/<id>.{png,pdf} with <id>.dat (the numbers drawn),\n"
        "<id>.gp (the gnuplot script) and <id>.sources.txt (every run and log file behind each mark).\n"
        "Runs that did not end ok are marked (OOM, error, ...), never drawn as zero.",
        own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "jenga plot");
  const Globals g = resolve_globals(a, base);

  const std::vector<Experiment> experiments = load_all_experiments(g.root);
  if (a.positionals().empty() && !a.has("all") && !a.has("list")) {
    throw Error("jenga plot: name figures, experiments or paper ids, or pass --all; figures: " +
                declared_ids(experiments, &Experiment::figures));
  }
  const std::vector<FigureRef> figures = select_figures(experiments, a.positionals());

  PlotOptions opt;
  opt.repo_root = g.root;
  opt.out_dir = a.get("out", (fs::path(g.root) / "output_figures").string());
  if (a.has("format")) opt.formats = split_list(a.all("format"));
  opt.profile = a.get("profile");
  opt.render = !a.has("no-render");
  opt.jobs = a.get_int("jobs", 0, 0);
  opt.gnuplot = a.get("gnuplot", "gnuplot");

  if (a.has("list")) {
    std::vector<Row> rows = {{"paper", "experiment", "figure", "type", "output"}};
    for (const FigureRef& f : figures) {
      const std::string group = f.figure->group.empty() ? f.experiment->name : f.figure->group;
      const fs::path stem = fs::path(opt.out_dir) / group / f.figure->id;
      std::string out = relative(stem.string(), g.root) + ".{";
      for (std::size_t i = 0; i < opt.formats.size(); ++i) out += (i == 0 ? "" : ",") + opt.formats[i];
      out += "}";
      std::error_code ec;
      if (!fs::exists(stem.string() + "." + opt.formats.front(), ec)) out += "  (not drawn yet)";
      rows.push_back({paper_of(*f.experiment, f.figure->paper), f.experiment->name, f.figure->id, f.figure->type, out});
    }
    std::stable_sort(rows.begin() + 1, rows.end(), [](const Row& a, const Row& b) { return paper_order(a[0], b[0]); });
    std::cout << format_table(rows);
    return kExitOk;
  }

  std::error_code ec;
  fs::create_directories(fs::path(g.db).parent_path(), ec);
  Store store(g.db);
  if (!a.has("no-ingest")) ingest_if_stale(store, g);

  const std::vector<FigureResult> results = plot_figures(store, figures, opt);
  std::vector<Row> rows = {{"paper", "figure", "output", "status"}};
  int failed = 0;
  const bool verbose = a.has("verbose");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const FigureResult& r = results[i];
    const fs::path stem = fs::path(opt.out_dir) / r.group / r.id;
    std::string status = r.error.empty() ? (opt.render ? "drawn" : "data+script") : "FAILED";
    if (!r.warnings.empty()) status += fmt::format(" ({} warning{})", r.warnings.size(), r.warnings.size() == 1 ? "" : "s");
    rows.push_back({paper_of(*figures[i].experiment, figures[i].figure->paper), r.id, relative(stem.string(), g.root) + ".*", status});
    if (!r.error.empty()) {
      ++failed;
      std::cerr << "jenga plot: " << r.id << ": " << r.error << "\n";
    }
    for (std::size_t w = 0; w < r.warnings.size() && (verbose || w < 3); ++w)
      std::cerr << "jenga plot: " << r.id << ": " << r.warnings[w] << "\n";
    if (!verbose && r.warnings.size() > 3)
      std::cerr << fmt::format("jenga plot: {}: ... {} more warnings (--verbose)\n", r.id, r.warnings.size() - 3);
  }
  std::cout << format_table(rows);
  if (figures.empty()) std::cout << "(no figures declared in " << g.root << "/experiments)\n";
  return failed > 0 ? kExitFailed : kExitOk;
}

}  // namespace jenga::cli
