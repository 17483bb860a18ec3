// Every figure type drawn from the paper fixture: the data (.dat) and script (.gp) say which
// series and points there are, where OOM and other marks sit, and that missing stays missing;
// the PNG and PDF exist and are not trivial (skipped only when gnuplot is absent).
#include "tests/harness/plot/plot_fixture_env.hpp"

#include "harness/common/error.hpp"
#include "harness/plot/gnuplot.hpp"
#include "harness/plot/figure.hpp"
#include "harness/plot/plot.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <regex>

namespace jenga::harness::test {
namespace {

namespace fs = std::filesystem;

struct Drawn {
  FigureResult result;
  std::string dat, gp, sources;
  fs::path dir;
};

// Draws one figure of the fixture (after `tweak` changes its spec) into a fresh folder.
Drawn draw(const std::string& experiment, const std::string& id, bool render,
           const std::function<void(FigureSpec&)>& tweak = {}) {
  FixtureWorld& w = fixture_world();
  Experiment exp = w.experiment(experiment);
  auto it = std::find_if(exp.figures.begin(), exp.figures.end(), [&](const FigureSpec& f) { return f.id == id; });
  if (it == exp.figures.end()) throw std::runtime_error("no figure " + id);
  if (tweak) tweak(*it);
  PlotOptions opt;
  opt.repo_root = w.root;
  opt.out_dir = scratch_dir("plot-out");
  opt.render = render && gnuplot_available();
  const auto results = plot_figures(*w.store, {{&exp, &*it}}, opt);
  Drawn d;
  d.result = results.at(0);
  d.dir = fs::path(opt.out_dir) / d.result.group;
  d.dat = read_text(d.dir / (id + ".dat"));
  d.gp = read_text(d.dir / (id + ".gp"));
  d.sources = read_text(d.dir / (id + ".sources.txt"));
  return d;
}

// The rows of data block `index` (comment lines dropped), split at tabs.
std::vector<std::vector<std::string>> block(const std::string& dat, int index) {
  std::vector<std::vector<std::string>> rows;
  const std::string tag = "# [" + std::to_string(index) + "]";
  std::size_t pos = dat.find(tag);
  if (pos == std::string::npos) return rows;
  const std::size_t end = dat.find("\n\n\n", pos);
  std::istringstream in(dat.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(fields);
  }
  return rows;
}

// Index of the block whose header contains `header`, -1 if none.
int block_index(const std::string& dat, const std::string& header) {
  std::size_t pos = 0;
  while ((pos = dat.find("# [", pos)) != std::string::npos) {
    const std::size_t nl = dat.find('\n', pos);
    const std::string line = dat.substr(pos, nl - pos);
    if (line.find(header) != std::string::npos) return std::stoi(line.substr(3));
    pos = nl;
  }
  return -1;
}

void expect_images(const Drawn& d, const std::string& id) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH: rendering not checked";
  ASSERT_EQ(d.result.error, "") << d.gp;
  const fs::path png = d.dir / (id + ".png"), pdf = d.dir / (id + ".pdf");
  ASSERT_TRUE(fs::exists(png));
  ASSERT_TRUE(fs::exists(pdf));
  EXPECT_GT(fs::file_size(png), 20000u) << "a PNG this small holds little more than axes";
  EXPECT_GT(fs::file_size(pdf), 8000u);
  const std::string head = read_text(png).substr(0, 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(read_text(pdf).substr(0, 5), "%PDF-");
  for (const std::string& w : d.result.warnings) EXPECT_EQ(w.rfind("gnuplot:", 0), std::string::npos) << w;
}

double mib_to_gib(double mib) { return mib / 1024.0; }

TEST(PlotGroupedBars, MemoryPerModelAndMethodWithOomAndMissingMarks) {
  const Drawn d = draw("fig-e2e", "e2e-memory", true);
  ASSERT_EQ(d.result.error, "");
  // One block per (panel, series): 2 models x 3 methods, 4 lengths each.
  const int base7 = block_index(d.dat, "panel llama2-7b | series base");
  const int jenga7 = block_index(d.dat, "panel llama2-7b | series jenga");
  const int jenga8 = block_index(d.dat, "panel llama3-8b | series jenga");
  const int longlora8 = block_index(d.dat, "panel llama3-8b | series longlora");
  const int longlora7 = block_index(d.dat, "panel llama2-7b | series longlora");
  ASSERT_GE(base7, 0);
  ASSERT_GE(jenga8, 0);
  const auto base = block(d.dat, base7);
  ASSERT_EQ(base.size(), 4u);
  EXPECT_EQ(base[0][2], "\"4096\"");
  EXPECT_EQ(base[0][3], "\"ok\"");
  EXPECT_NEAR(std::stod(base[0][1]), mib_to_gib(13100 + 2.2 * 4096), 1e-3);
  // base at 32K ran out of memory: no value (NaN, never 0) and an OOM mark over its bar.
  EXPECT_EQ(base[3][1], "NaN");
  EXPECT_EQ(base[3][3], "\"oom\"");
  const std::string oom_at = fmt::format("set label \"OOM\" at first {}, first 0", base[3][0]);
  EXPECT_NE(d.gp.find(oom_at), std::string::npos) << oom_at << "\n" << d.gp;
  // llama3-8b/jenga/32K was never run; llama3-8b/longlora/16K errored; llama2-7b/longlora/32K crashed.
  EXPECT_EQ(block(d.dat, jenga8)[3][1], "NaN");
  EXPECT_EQ(block(d.dat, jenga8)[3][3], "\"not run\"");
  EXPECT_EQ(block(d.dat, longlora8)[2][3], "\"error\"");
  EXPECT_EQ(block(d.dat, longlora7)[3][3], "\"crashed\"");
  EXPECT_NE(d.gp.find("set label \"not run\""), std::string::npos);
  EXPECT_NE(d.gp.find("set label \"error\""), std::string::npos);
  EXPECT_NE(d.gp.find("set label \"crashed\""), std::string::npos);
  // Reduction labels: base / jenga at 4K for llama2-7b.
  const double r = (13100 + 2.2 * 4096) / (13100 + 0.95 * 4096);
  EXPECT_NE(d.gp.find(fmt::format("\"{:.2f}×\"", r)), std::string::npos) << d.gp;
  EXPECT_EQ(block(d.dat, jenga7).size(), 4u);
  // No value in the whole file is a zero standing in for a missing run.
  EXPECT_EQ(d.dat.find("\t0\t"), std::string::npos);
  // Title, hardware, units, legend, caption.
  EXPECT_NE(d.gp.find("Peak memory of LoRA fine-tuning"), std::string::npos);
  EXPECT_NE(d.gp.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(d.gp.find("set ylabel \"peak allocated memory (GiB)\""), std::string::npos);
  EXPECT_NE(d.gp.find("set xlabel \"sequence length (tokens)\""), std::string::npos);
  EXPECT_NE(d.gp.find("rect from screen"), std::string::npos) << "legend samples";
  EXPECT_NE(d.gp.find("\"longlora\" at screen"), std::string::npos);
  EXPECT_NE(d.gp.find("\"8K\" 1"), std::string::npos);
  EXPECT_NE(d.gp.find("OOM = the run ran out of GPU memory"), std::string::npos);
  EXPECT_NE(d.gp.find("noenhanced"), std::string::npos) << "names with _ must not turn into subscripts";
  // Sources: every run key behind the figure, with its log (or none).
  EXPECT_NE(d.sources.find("llama2-7b\tbase\t32768\toom\tOOM\t"), std::string::npos) << d.sources;
  EXPECT_NE(d.sources.find("(no log)"), std::string::npos);
  EXPECT_NE(d.sources.find("logs/fig-e2e/"), std::string::npos);
  expect_images(d, "e2e-memory");
}

TEST(PlotGroupedBars, SpeedupLabelsAgainstBaseline) {
  const Drawn d = draw("fig-e2e", "e2e-time", false);
  ASSERT_EQ(d.result.error, "");
  EXPECT_EQ(block_index(d.dat, "llama3-8b"), -1) << "the filter keeps llama2-7b only";
  const auto jenga = block(d.dat, block_index(d.dat, "series jenga"));
  ASSERT_EQ(jenga.size(), 4u);
  const double S = 8192, fwd = 0.71 * (0.052 * S + 1.1e-6 * S * S);
  EXPECT_NEAR(std::stod(jenga[1][1]), (fwd * 3.05 + 9.5) / 1000.0, 1e-4) << "y_scale 0.001 turns ms into s";
  EXPECT_NE(d.gp.find("set ylabel \"step time (s)\""), std::string::npos);
  // base/jenga time at 8K:
  const double fb = 0.052 * S + 1.1e-6 * S * S;
  const double speedup = (fb * 3.05 + 9.5) / (fwd * 3.05 + 9.5);
  EXPECT_NE(d.gp.find(fmt::format("\"{:.2f}×\"", speedup)), std::string::npos);
  EXPECT_NE(d.gp.find("speedup vs base"), std::string::npos);
}

TEST(PlotGroupedBars, AmbiguousPointsAreNotAveragedAcrossDifferentRuns) {
  // Without the model filter two different runs land on each bar: refused, not averaged.
  const Drawn d = draw("fig-e2e", "e2e-time", false, [](FigureSpec& f) { f.filter = Json::object(); });
  const auto jenga = block(d.dat, block_index(d.dat, "series jenga"));
  EXPECT_EQ(jenga[0][1], "NaN");
  EXPECT_EQ(jenga[0][3], "\"ambiguous\"");
  EXPECT_NE(d.sources.find("differ in model"), std::string::npos) << d.sources;
}

TEST(PlotLines, ThroughputOverLengthWithLogAxisAndOomMarks) {
  const Drawn d = draw("fig-e2e", "e2e-throughput", true);
  ASSERT_EQ(d.result.error, "");
  const auto base = block(d.dat, block_index(d.dat, "panel llama2-7b | series base"));
  ASSERT_EQ(base.size(), 4u);
  EXPECT_EQ(base[0][0], "4096");
  EXPECT_EQ(base[3][0], "32768");
  EXPECT_EQ(base[3][1], "NaN");
  EXPECT_NE(d.gp.find("set logscale x 2"), std::string::npos);
  EXPECT_NE(d.gp.find("set label \"OOM\" at first 32768.0000, graph 0.050"), std::string::npos) << d.gp;
  // Both models' base OOM at 32K and llama2-7b's longlora crashed there: marks stack upwards.
  EXPECT_NE(d.gp.find("at first 32768.0000, graph 0.150"), std::string::npos) << d.gp;
  EXPECT_NE(d.gp.find("point pt 2"), std::string::npos);
  EXPECT_NE(d.gp.find("with linespoints"), std::string::npos);
  EXPECT_NE(d.gp.find("set ylabel \"throughput (tokens/s)\""), std::string::npos);
  // A never-run point leaves a gap and says so.
  const auto jenga8 = block(d.dat, block_index(d.dat, "panel llama3-8b | series jenga"));
  EXPECT_EQ(jenga8[3][2], "\"not run\"");
  EXPECT_EQ(jenga8[3][1], "NaN");
  EXPECT_NE(d.gp.find("set label \"not run\" at first 32768.0000"), std::string::npos) << d.gp;
  expect_images(d, "e2e-throughput");
}

TEST(PlotStackedBars, PhasesStackToTheStepTime) {
  const Drawn d = draw("fig-e2e", "time-breakdown", true, [](FigureSpec& f) {
    f.labels = {{"optimizer_ms", "optimizer step"}};
  });
  ASSERT_EQ(d.result.error, "");
  const auto fwd = block(d.dat, block_index(d.dat, "component forward_ms"));
  const auto opt = block(d.dat, block_index(d.dat, "component optimizer_ms"));
  ASSERT_EQ(fwd.size(), 12u);  // 4 lengths x 3 methods
  // Row 0: 4K base. forward starts at 0; optimizer ends at the whole step time.
  const double S = 4096, f = 0.052 * S + 1.1e-6 * S * S;
  EXPECT_EQ(fwd[0][1], "0");
  EXPECT_NEAR(std::stod(opt[0][2]), f * 3.05 + 9.5, 1e-2);
  EXPECT_EQ(opt[0][4], "\"base\"");
  // 32K base OOM: no bar parts, an OOM mark.
  EXPECT_EQ(fwd[9][1], "NaN");
  EXPECT_EQ(fwd[9][5], "\"oom\"");
  EXPECT_NE(d.gp.find("set label \"OOM\""), std::string::npos);
  EXPECT_NE(d.gp.find("with boxxyerror"), std::string::npos);
  EXPECT_NE(d.gp.find("\"optimizer step\" at screen"), std::string::npos) << "labels rename components";
  EXPECT_NE(d.gp.find("\"forward\" at screen"), std::string::npos);
  EXPECT_NE(d.gp.find("set ylabel \"time per step (ms)\""), std::string::npos);
  expect_images(d, "time-breakdown");
}

TEST(PlotLossCurve, OneCurvePerRunAndTheDivergedOneEndsInAMark) {
  const Drawn d = draw("fig-predictor", "predictor-loss", true);
  ASSERT_EQ(d.result.error, "");
  const auto linear = block(d.dat, block_index(d.dat, "series linear"));
  const auto lowrank = block(d.dat, block_index(d.dat, "series lowrank"));
  EXPECT_EQ(linear.size(), 200u);
  EXPECT_EQ(lowrank.size(), 151u);
  EXPECT_EQ(linear[0][0], "0");
  EXPECT_NEAR(std::stod(linear[0][1]), 0.42 + 1.9, 1e-3);
  EXPECT_NE(d.gp.find("set label \"diverged\" at first 150"), std::string::npos) << d.gp;
  EXPECT_NE(d.gp.find("set xlabel \"training step\""), std::string::npos);
  EXPECT_NE(d.gp.find("set ylabel \"loss\""), std::string::npos);
  EXPECT_NE(d.sources.find("diverged"), std::string::npos);
  expect_images(d, "predictor-loss");
}

TEST(PlotMemoryTimeline, WithAndWithoutSegmentOverTime) {
  const Drawn d = draw("fig-segment", "segment-timeline", true, [](FigureSpec& f) {
    f.x_scale = 0.001;
    f.labels = {{"dense", "without segment"}, {"segmented", "with segment"}};
  });
  ASSERT_EQ(d.result.error, "");
  const auto dense = block(d.dat, block_index(d.dat, "series dense"));
  ASSERT_EQ(dense.size(), 121u);
  EXPECT_EQ(dense[40][0], "1") << "t_ms 1000 x 0.001 = 1 s";
  EXPECT_NEAR(std::stod(dense[0][1]), 13100 / 1024.0, 1e-3);
  EXPECT_NE(d.gp.find("with steps"), std::string::npos);
  EXPECT_NE(d.gp.find("\"with segment\" at screen"), std::string::npos);
  EXPECT_NE(d.gp.find("\"without segment\" at screen"), std::string::npos);
  EXPECT_NE(d.gp.find("set xlabel \"time (s)\""), std::string::npos) << d.gp;
  EXPECT_NE(d.gp.find("set ylabel \"allocated memory (GiB)\""), std::string::npos);
  expect_images(d, "segment-timeline");
}

TEST(PlotHeatmap, NiahDepthByLengthWithAnOomColumnUnderAMemoryCap) {
  const Drawn d = draw("fig-niah", "niah-heatmap", true);
  ASSERT_EQ(d.result.error, "");
  const auto cells = block(d.dat, 0);
  const auto missing = block(d.dat, 1);
  EXPECT_EQ(cells.size(), 15u);   // 3 lengths x 5 depths with a value
  ASSERT_EQ(missing.size(), 5u);  // the 32K column: its run OOMed before any metric
  for (const auto& m : missing) {
    EXPECT_EQ(m[0], "3");
    EXPECT_EQ(m[2], "\"OOM\"");
  }
  EXPECT_NE(d.gp.find("fc palette"), std::string::npos);
  EXPECT_NE(d.gp.find("\"0\" 0, \"25\" 1, \"50\" 2, \"75\" 3, \"100\" 4"), std::string::npos) << d.gp;
  EXPECT_NE(d.gp.find("(memory cap 48 GiB)"), std::string::npos) << "profile a40cap caps memory";
  EXPECT_NE(d.gp.find("set cblabel \"accuracy (fraction)\""), std::string::npos) << d.gp;
  expect_images(d, "niah-heatmap");
}

TEST(PlotFigures, AnExperimentWithoutRunsDrawsAnEmptyFrameSayingSo) {
  FixtureWorld& w = fixture_world();
  Experiment exp = w.experiment("fig-predictor");
  exp.name = "never-ran";  // no runs indexed under this name
  PlotOptions opt;
  opt.repo_root = w.root;
  opt.out_dir = scratch_dir("plot-empty");
  opt.profile = "h100";  // planned under it: every run "not run"
  opt.render = gnuplot_available();
  const auto r = plot_figures(*w.store, {{&exp, &exp.figures[0]}}, opt).at(0);
  EXPECT_EQ(r.error, "");
  const std::string sources = read_text(fs::path(opt.out_dir) / "ablations" / "predictor-loss.sources.txt");
  EXPECT_NE(sources.find("not run"), std::string::npos);
  const std::string gp = read_text(fs::path(opt.out_dir) / "ablations" / "predictor-loss.gp");
  EXPECT_NE(gp.find("\"no data\""), std::string::npos);
}

TEST(PlotFigures, EveryTypeDrawsWhenNoRunMatches) {
  // A filter nothing matches: each type must still give gnuplot a valid script (an empty frame
  // saying "no data"), not an error about undefined points.
  FixtureWorld& w = fixture_world();
  for (const auto& [experiment, id] : std::vector<std::pair<std::string, std::string>>{
           {"fig-e2e", "e2e-memory"}, {"fig-e2e", "e2e-throughput"}, {"fig-e2e", "time-breakdown"},
           {"fig-predictor", "predictor-loss"}, {"fig-segment", "segment-timeline"}, {"fig-niah", "niah-heatmap"}}) {
    const Drawn d = draw(experiment, id, true, [](FigureSpec& f) { f.filter = Json{{"model", "no-such-model"}}; });
    EXPECT_NE(d.gp.find("\"no data\""), std::string::npos) << id;
    if (!gnuplot_available()) continue;
    EXPECT_EQ(d.result.error, "") << id << "\n" << d.gp;
    EXPECT_TRUE(fs::exists(d.dir / (id + ".png"))) << id;
    for (const std::string& warning : d.result.warnings) EXPECT_EQ(warning.rfind("gnuplot:", 0), std::string::npos) << id << ": " << warning;
  }
  (void)w;
}

TEST(PlotDataFile, AnEmptyBlockKeepsTheIndicesOfTheBlocksAfterIt) {
  DataFile dat;
  dat.block("first", {"x", "y"});
  dat.row({"1", "10"});
  dat.block("empty", {"x", "y"});
  const int third = dat.block("third", {"x", "y"});
  dat.row({"1", "30"});
  dat.row({"2", "50"});
  EXPECT_EQ(third, 2);
  EXPECT_NE(dat.text().find("# (no rows)\nNaN\tNaN\n"), std::string::npos) << dat.text();
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH";
  const std::string dir = scratch_dir("datafile");
  std::ofstream(dir + "/d.dat") << dat.text();
  std::ofstream(dir + "/s.gp") << "set print \"-\"\nstats 'd.dat' index 2 using 2 nooutput\nprint STATS_mean\n";
  const GnuplotResult r = run_gnuplot("gnuplot", "s.gp", dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "40.0\n");
}

TEST(PlotFigures, SelectionByIdExperimentAndPaperId) {
  const auto& ex = fixture_world().experiments;
  EXPECT_EQ(select_figures(ex, {}).size(), 7u);
  EXPECT_EQ(select_figures(ex, {"fig-e2e"}).size(), 4u);
  EXPECT_EQ(select_figures(ex, {"Fig 16"}).size(), 1u);
  EXPECT_EQ(select_figures(ex, {"niah-heatmap", "e2e-time"}).size(), 2u);
  EXPECT_THROW(select_figures(ex, {"fig-99"}), Error);
}

TEST(PlotFigures, GnuplotFailureIsReportedAndLeavesNoStalePicture) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH";
  FixtureWorld& w = fixture_world();
  const Experiment& exp = w.experiment("fig-predictor");
  PlotOptions opt;
  opt.repo_root = w.root;
  opt.out_dir = scratch_dir("plot-fail");
  const fs::path stale = fs::path(opt.out_dir) / "ablations" / "predictor-loss.png";
  fs::create_directories(stale.parent_path());
  std::ofstream(stale) << "old picture";
  opt.gnuplot = "false";  // exits 1 without drawing
  const auto r = plot_figures(*w.store, {{&exp, &exp.figures[0]}}, opt).at(0);
  EXPECT_NE(r.error.find("gnuplot failed (exit 1)"), std::string::npos) << r.error;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(stale.parent_path() / "predictor-loss.gp")) << "the script stays, to debug by hand";
}

}  // namespace
}  // namespace jenga::harness::test
