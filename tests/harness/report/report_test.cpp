#include "harness/report/report.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace jenga::harness;
using jenga::harness::test::TempDir;

namespace {

RunRecords run(const std::string& key, const std::string& experiment, const std::string& status, const Json& params,
               const Json& summary = Json::object(), const std::string& message = {}) {
  RunRecords r;
  r.run.key = key;
  r.run.experiment = experiment;
  r.run.profile = "h100";
  r.run.task = "train-bench";
  r.run.params = params;
  r.run.status = status;
  r.run.message = message;
  r.run.log_path = "logs/" + experiment + "/" + key + ".jsonl";
  r.summary = summary;
  return r;
}

// fig12: 4 runs over seq_len x method (model fixed); fig5: 2 runs.
void fill(Store& s) {
  const Json m = "llama2-7b";
  s.replace_runs({
      run("a1", "fig12", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "lora"}}, {{"peak_allocated_mib", 30000.5}, {"step_ms", 512.25}, {"loss", 2.5}}),
      run("a2", "fig12", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "jenga"}}, {{"peak_allocated_mib", 20000}, {"step_ms", 400.125}}),
      run("a3", "fig12", "oom", {{"model", m}, {"seq_len", 16384}, {"method", "lora"}}, Json::object(), "CUDA out of memory.\nTried to allocate 2 GiB"),
      run("a4", "fig12", "ok", {{"model", m}, {"seq_len", 16384}, {"method", "jenga"}}, {{"peak_allocated_mib", 61000.75}, {"step_ms", 1650}}),
      run("b1", "fig5", "crashed", {{"len", 1}}, Json::object(), "log ends without an end record"),
      run("b2", "fig5", "timeout", {{"len", 2}}, Json::object(), "timed out after 600 s"),
  });
}

}  // namespace

TEST(StatusTable, CountsPerExperimentWithTotals) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  fill(s);
  std::ostringstream out;
  render_status_table(s, out);
  EXPECT_EQ(out.str(),
            "experiment  ok  oom  timeout  crashed  total\n"
            "--------------------------------------------\n"
            "fig12        3    1        0        0      4\n"
            "fig5         0    0        1        1      2\n"
            "--------------------------------------------\n"
            "total        3    1        1        1      6\n");
}

TEST(StatusTable, ListsRunsNotOk) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  fill(s);
  StatusOptions opt;
  opt.list_not_ok = true;
  opt.max_listed = 2;
  std::ostringstream out;
  render_status_table(s, out, opt);
  const std::string text = out.str();
  EXPECT_NE(text.find("runs not ok: 3 (first 2 listed)"), std::string::npos) << text;
  EXPECT_NE(text.find("fig12       a3   oom      CUDA out of memory. Tried to allocate 2 GiB  logs/fig12/a3.jsonl"), std::string::npos) << text;
  EXPECT_NE(text.find("b1"), std::string::npos) << text;
  EXPECT_EQ(text.find("b2"), std::string::npos) << text;  // beyond max_listed
}

TEST(StatusTable, FilterAndMarkdown) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  fill(s);
  StatusOptions opt;
  opt.filter.experiment = "fig5";
  opt.format = TableFormat::Markdown;
  std::ostringstream out;
  render_status_table(s, out, opt);
  EXPECT_EQ(out.str(),
            "| experiment | timeout | crashed | total |\n"
            "| --- | ---: | ---: | ---: |\n"
            "| fig5 | 1 | 1 | 2 |\n"
            "| **total** | 1 | 1 | 2 |\n");
  opt.filter.experiment = "nope";
  std::ostringstream none;
  render_status_table(s, none, opt);
  EXPECT_EQ(none.str(), "no runs in the index match the filter\n");
  Store empty(dir.file("empty.sqlite"));
  std::ostringstream e;
  render_status_table(empty, e);
  EXPECT_EQ(e.str(), "no runs in the index\n");
}

TEST(Report, VaryingParamsSummaryColumnsAndMessages) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  fill(s);
  std::ostringstream out;
  render_report(s, "fig12", out);
  EXPECT_EQ(out.str(),
            "experiment fig12: 4 runs (3 ok, 1 oom)\n"
            "fixed: model=llama2-7b\n"
            "\n"
            "run  method  seq_len  status  peak_allocated_mib  step_ms  loss  message\n"
            "------------------------------------------------------------------------------------------------------------\n"
            "a2   jenga      4096  ok                   20000  400.125     -\n"
            "a4   jenga     16384  ok                 61000.8     1650     -\n"
            "a1   lora       4096  ok                 30000.5   512.25   2.5\n"
            "a3   lora      16384  oom                      -        -     -  CUDA out of memory. Tried to allocate 2 GiB\n");
}

TEST(Report, MarkdownAndColumnChoice) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  fill(s);
  std::ostringstream md;
  render_report_markdown(s, "fig5", md);
  EXPECT_EQ(md.str(),
            "## experiment fig5: 2 runs (1 timeout, 1 crashed)\n"
            "\n"
            "| run | len | status | message |\n"
            "| --- | ---: | --- | --- |\n"
            "| b1 | 1 | crashed | log ends without an end record |\n"
            "| b2 | 2 | timeout | timed out after 600 s |\n");

  ReportOptions opt;
  opt.max_summary_columns = 1;
  std::ostringstream few;
  render_report(s, "fig12", few, opt);
  EXPECT_NE(few.str().find("(2 more summary values: step_ms, loss)"), std::string::npos) << few.str();
  opt.summary_columns = {"loss"};
  std::ostringstream chosen;
  render_report(s, "fig12", chosen, opt);
  EXPECT_NE(chosen.str().find("status  loss"), std::string::npos) << chosen.str();
  EXPECT_EQ(chosen.str().find("step_ms"), std::string::npos) << chosen.str();

  std::ostringstream none;
  render_report(s, "nope", none);
  EXPECT_EQ(none.str(), "no runs of experiment nope in the index\n");
}

TEST(Report, FormatValue) {
  EXPECT_EQ(format_value(20000), "20000");
  EXPECT_EQ(format_value(512.25), "512.25");
  EXPECT_EQ(format_value(0.000012345), "1.234e-05");
  EXPECT_EQ(format_value(12345678.9), "1.235e+07");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(one_line("ab\ncd", 10), "ab cd");
  EXPECT_EQ(one_line("abcdefghij", 6), "abc...");
  EXPECT_EQ(one_line("ééééééé", 5), "éé...");
  EXPECT_EQ(display_width("é✓x"), 3u);
}
