// RUNME-a.sh end to end on the paper fixture in a temporary directory: ingest, every figure type,
// every table, and the mapping of paper ids to files. Uses the jenga binary of this build
// (JENGA_BIN overrides); skipped only when no jenga binary is built. It prints the wall time
// (the bar is 30 s) but asserts none: timings belong to bench/, not to tests.
#include "tests/harness/plot/plot_fixture_env.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sys/wait.h>

namespace jenga::harness::test {
namespace {

namespace fs = std::filesystem;

std::string jenga_binary() {
  if (const char* b = std::getenv("JENGA_BIN"); b != nullptr && *b != '\0') return b;
  return std::string(JENGA_BINARY_DIR) + "/bin/jenga";
}

// Runs a shell command line, returns (exit status, stdout+stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

TEST(PlotRunmeA, FixtureTreeGivesEveryFigureTypeAndTable) {
  const std::string jenga = jenga_binary();
  if (!fs::exists(jenga)) GTEST_SKIP() << "no jenga binary at " << jenga << " (build target jenga, or set JENGA_BIN)";
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH: RUNME-a.sh cannot draw here";
  const auto help = run(quoted(jenga) + " --help");
  ASSERT_NE(help.second.find("\n  plot"), std::string::npos)
      << "jenga does not dispatch `plot`: add cmd_plot/cmd_table to harness/cli/main.cpp and commands.hpp";

  const std::string root = scratch_dir("runme-a");
  write_paper_fixture(root, /*extras=*/true);
  const auto t0 = std::chrono::steady_clock::now();
  const auto [rc, out] = run("bash " + quoted(std::string(JENGA_SOURCE_DIR) + "/RUNME-a.sh") + " --root " + quoted(root) +
                             " --jenga " + quoted(jenga));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "RUNME-a.sh on the fixture tree: " << seconds << " s\n";
  RecordProperty("runme_a_seconds", std::to_string(seconds));
  ASSERT_EQ(rc, 0) << out;

  const std::vector<std::pair<std::string, std::string>> figures = {
      {"end2end", "e2e-memory"},          {"end2end", "e2e-time"},        {"end2end", "e2e-throughput"},
      {"ablations", "time-breakdown"},    {"ablations", "predictor-loss"}, {"ablations", "segment-timeline"},
      {"extension", "niah-heatmap"}};
  for (const auto& [group, id] : figures) {
    const fs::path stem = fs::path(root) / "output_figures" / group / id;
    for (const char* ext : {".png", ".pdf", ".dat", ".gp", ".sources.txt"}) {
      const fs::path p = stem.string() + ext;
      EXPECT_TRUE(fs::exists(p)) << p << "\n" << out;
      if (fs::exists(p)) {
        EXPECT_GT(fs::file_size(p), 200u) << p;
      }
    }
  }
  for (const char* id : {"table6-longbench", "table7-perplexity", "summary-memory-time"})
    for (const char* ext : {".md", ".csv", ".tex", ".sources.txt"})
      EXPECT_TRUE(fs::exists(fs::path(root) / "tables" / (std::string(id) + ext))) << id << ext << "\n" << out;

  // The newer spec keys reached the figures (labels, x_scale) and tables (rows list, vs_baseline).
  EXPECT_NE(read_text(fs::path(root) / "output_figures/ablations/segment-timeline.gp").find("\"with segment\""),
            std::string::npos);
  EXPECT_NE(read_text(fs::path(root) / "tables/summary-memory-time.md").find("memory reduction, jenga"), std::string::npos);
  // The mapping: paper ids to output files.
  EXPECT_NE(out.find("where each paper figure and table landed"), std::string::npos);
  for (const char* paper : {"Fig 12", "Fig 16", "Fig 18", "Fig 20", "Table 6", "Table 7"})
    EXPECT_NE(out.find(paper), std::string::npos) << paper << "\n" << out;
  EXPECT_NE(out.find("output_figures/end2end/e2e-memory.{png,pdf}"), std::string::npos) << out;
  EXPECT_NE(out.find("tables/table7-perplexity.{md,csv,tex}"), std::string::npos) << out;
  EXPECT_EQ(out.find("not drawn yet"), std::string::npos) << out;
}

}  // namespace
}  // namespace jenga::harness::test
