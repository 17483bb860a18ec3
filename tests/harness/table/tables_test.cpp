// Table 6 (LongBench per task), Table 7 (perplexity per dataset and length) and the summary of
// memory reduction and speedup, from the paper fixture: golden files for Markdown, CSV and LaTeX
// (tests/fixtures/tables/; JENGA_UPDATE_GOLDEN=1 rewrites them), plus the cells that matter.
#include "tests/harness/plot/plot_fixture_env.hpp"

#include "harness/common/error.hpp"
#include "harness/table/table.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace jenga::harness::test {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = fs::path(JENGA_TEST_FIXTURES) / "tables";

TableSpec table7() {
  TableSpec t;
  t.id = "table7-perplexity";
  t.title = "Perplexity";
  t.rows = "dataset";
  t.row_keys = {"dataset", "seq_len"};
  t.columns = "method";
  t.value = "ppl";
  t.format = "{:.2f}";
  t.labels = {{"pg19", "PG-19"}, {"proof_pile", "Proof-pile"}, {"seq_len", "eval length"}};
  return t;
}

TableSpec summary() {
  TableSpec t;
  t.id = "summary-memory-time";
  t.title = "Memory reduction and speedup over base";
  t.type = "vs_baseline";
  t.rows = "model";
  t.row_keys = {"model", "seq_len"};
  t.columns = "method";
  t.baseline = "base";
  TableRatio mem;
  mem.value = "peak_allocated_mib";
  mem.label = "memory reduction";
  mem.scale = 1.0 / 1024;
  mem.format = "{:.1f}";
  TableRatio time;
  time.value = "step_ms";
  time.label = "speedup";
  time.format = "{:.0f}";
  t.ratios = {mem, time};
  t.caption = "Peak allocated memory and median step time of LoRA fine-tuning.";
  return t;
}

struct Written {
  TableResult result;
  std::string md, csv, tex, sources;
};

Written write(const std::string& experiment, const std::optional<TableSpec>& extra, const std::string& id) {
  FixtureWorld& w = fixture_world();
  Experiment exp = w.experiment(experiment);
  if (extra) exp.tables.push_back(*extra);
  std::vector<TableRef> refs;
  for (const TableSpec& t : exp.tables)
    if (t.id == id) refs.push_back({&exp, &t});
  if (refs.size() != 1) throw std::runtime_error("no table " + id);
  TableOptions opt;
  opt.repo_root = w.root;
  opt.out_dir = scratch_dir("tables");
  Written r;
  r.result = write_tables(*w.store, refs, opt).at(0);
  const fs::path base = fs::path(opt.out_dir) / id;
  r.md = read_text(base.string() + ".md");
  r.csv = read_text(base.string() + ".csv");
  r.tex = read_text(base.string() + ".tex");
  r.sources = read_text(base.string() + ".sources.txt");
  return r;
}

void expect_golden(const Written& w, const std::string& id) {
  const char* update = std::getenv("JENGA_UPDATE_GOLDEN");
  for (const auto& [ext, text] : std::vector<std::pair<std::string, std::string>>{{".md", w.md}, {".csv", w.csv}, {".tex", w.tex}}) {
    const fs::path golden = kGolden / (id + ext);
    if (update != nullptr && std::string(update) == "1") {
      fs::create_directories(kGolden);
      std::ofstream(golden, std::ios::binary) << text;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with JENGA_UPDATE_GOLDEN=1 to create it";
    EXPECT_EQ(text, read_text(golden)) << "differs from " << golden << " (JENGA_UPDATE_GOLDEN=1 rewrites it)";
  }
}

TEST(Table6, LongBenchPerTaskWithAnOomMethod) {
  const Written w = write("tab-longbench", std::nullopt, "table6-longbench");
  ASSERT_EQ(w.result.error, "");
  // Tasks come from the metric records' tags, methods from the run parameters.
  EXPECT_NE(w.csv.find("task,base,longlora,jenga\n"), std::string::npos) << w.csv;
  EXPECT_NE(w.csv.find("narrativeqa,18.7,OOM,19.6\n"), std::string::npos) << w.csv;
  EXPECT_NE(w.csv.find("trec,61.5,OOM,62.4\n"), std::string::npos);
  EXPECT_NE(w.md.find("| narrativeqa | 18.7 | OOM | 19.6 |"), std::string::npos) << w.md;
  EXPECT_NE(w.md.find("OOM = the run ran out of GPU memory."), std::string::npos);
  EXPECT_NE(w.md.find("Measured on NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(w.tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(w.tex.find("multifieldqa\\_en & 36.8 & OOM & 37.7 \\\\"), std::string::npos) << w.tex;
  EXPECT_NE(w.sources.find("\tlonglora\toom\tOOM\t"), std::string::npos) << w.sources;
  expect_golden(w, "table6-longbench");
}

TEST(Table7, PerplexityByDatasetAndLengthWithMissingCells) {
  const Written w = write("tab-perplexity", table7(), "table7-perplexity");
  ASSERT_EQ(w.result.error, "");
  EXPECT_NE(w.csv.find("dataset,eval length,base,longlora,jenga\n"), std::string::npos) << w.csv;
  // base on proof_pile was never run; jenga's 16K proof_pile value was logged as null.
  EXPECT_NE(w.csv.find("PG-19,4K,7.90,8.00,7.95\n"), std::string::npos) << w.csv;
  EXPECT_NE(w.csv.find("Proof-pile,4K,—,3.14,3.12\n"), std::string::npos) << w.csv;
  EXPECT_NE(w.csv.find("Proof-pile,16K,—,3.01,—\n"), std::string::npos) << w.csv;
  EXPECT_NE(w.md.find("planned, not run yet"), std::string::npos) << w.md;
  EXPECT_NE(w.md.find("run ended ok without this value"), std::string::npos);
  EXPECT_EQ(w.csv.find(",0.00"), std::string::npos) << "a missing cell is never a zero";
  // booktabs: a dataset repeated on the next row is left blank.
  EXPECT_NE(w.tex.find("PG-19 & 4K"), std::string::npos) << w.tex;
  EXPECT_NE(w.tex.find("\n & 8K &"), std::string::npos) << w.tex;
  expect_golden(w, "table7-perplexity");
}

TEST(TableSummary, MemoryReductionAndSpeedupPerModelAndLength) {
  const Written w = write("fig-e2e", summary(), "summary-memory-time");
  ASSERT_EQ(w.result.error, "");
  EXPECT_NE(w.csv.find("model,sequence length,\"peak allocated memory (GiB), base\""), std::string::npos) << w.csv;
  // llama2-7b at 4K: memory base/jenga and time base/jenga.
  const double S = 4096, f = 0.052 * S + 1.1e-6 * S * S;
  const double mem = (13100 + 2.2 * S) / (13100 + 0.95 * S), speed = (f * 3.05 + 9.5) / (0.71 * f * 3.05 + 9.5);
  EXPECT_NE(w.csv.find(fmt::format("{:.2f}", mem)), std::string::npos) << w.csv;
  EXPECT_NE(w.csv.find(fmt::format("{:.2f}", speed)), std::string::npos) << w.csv;
  EXPECT_NE(w.md.find(fmt::format("{:.2f}×", mem)), std::string::npos) << w.md;
  EXPECT_NE(w.tex.find(fmt::format("{:.2f}$\\times$", mem)), std::string::npos);
  // 32K: base OOM, so its values read OOM and no ratio is claimed.
  EXPECT_NE(w.csv.find("llama2-7b,32K,OOM,"), std::string::npos) << w.csv;
  EXPECT_NE(w.md.find("A ratio is — where either run has no value."), std::string::npos);
  expect_golden(w, "summary-memory-time");
}

TEST(TableCommon, SelectionAndUnknownNames) {
  const auto& ex = fixture_world().experiments;
  EXPECT_EQ(select_tables(ex, {}).size(), 1u);  // only Table 6 is declared in the plain fixture files
  EXPECT_EQ(select_tables(ex, {"Table 6"}).size(), 1u);
  EXPECT_THROW(select_tables(ex, {"Table 99"}), Error);
}

TEST(TableCommon, UnknownTypeIsAnErrorInItsResult) {
  TableSpec t = table7();
  t.type = "pie";
  const Written w = write("tab-perplexity", t, "table7-perplexity");
  EXPECT_NE(w.result.error.find("unknown type 'pie'"), std::string::npos) << w.result.error;
}

}  // namespace
}  // namespace jenga::harness::test
