// The results summary: reference points load with file:line errors, and the table puts our ok
// runs beside them; what nobody measured stays a dash, a failed run shows its status.
#include "harness/common/error.hpp"
#include "harness/report/results_summary.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace jenga::harness;
using jenga::harness::test::TempDir;

namespace {

RunRecords run(const std::string& key, const std::string& status, const Json& params, const Json& summary) {
  RunRecords r;
  r.run.key = key;
  r.run.experiment = "fig12";
  r.run.profile = "h100";
  r.run.task = "train-bench";
  r.run.params = params;
  r.run.status = status;
  r.run.log_path = "logs/fig12/" + key + ".jsonl";
  r.run.provenance = {{"gpu", "NVIDIA H100 80GB HBM3"}};
  r.summary = summary;
  return r;
}

const char* kReference =
    "points:\n"
    "  - {source: paper-a800, model: llama2-7b, method: base, seq_len: 4096, peak_mib: 40960, step_ms: 1000}\n"
    "  - {source: paper-a800, model: llama2-7b, method: jenga, seq_len: 4096, peak_mib: 20480, step_ms: 800}\n"
    "  - {source: hf-peft-h100, model: llama2-7b, method: hf-peft, seq_len: 4096, peak_mib: 40960, step_ms: 500}\n"
    "  - {source: hf-peft-h100, model: llama2-7b, method: hf-peft, seq_len: 16384, oom: true}\n";

}  // namespace

TEST(ResultsSummary, OursBesideThePaperAndTheAnchor) {
  TempDir dir;
  jenga::harness::test::write_file(dir.file("ref.yaml"), kReference);
  const auto points = load_reference_points(dir.file("ref.yaml"));
  ASSERT_EQ(points.size(), 4u);
  Store s(dir.file("r.sqlite"));
  const Json m = "llama2-7b";
  s.replace_runs({
      run("a", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "base"}}, {{"peak_allocated_mib", 25600}, {"step_ms", 300}}),
      run("b", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "jenga"}}, {{"peak_allocated_mib", 20480}, {"step_ms", 250}}),
      run("c", "oom", {{"model", m}, {"seq_len", 16384}, {"method", "base"}}, Json::object()),
  });
  std::ostringstream out;
  render_results_summary(s, points, "", out);
  const std::string t = out.str();
  EXPECT_NE(t.find("GPUs NVIDIA H100 80GB HBM3"), std::string::npos) << t;
  // ours 25.00 / 20.00 GiB (1.25x), paper 40.00 / 20.00 (2.00x), HF 40.00 (2.00x ours), times.
  EXPECT_NE(t.find("| llama2-7b | 4096 | no | 25.00 | 20.00 | 1.25 | 40.00 | 20.00 | 2.00 | 40.00 | 2.00 | 0.300 | 0.250 | 1.20 | 1.25 | 0.500 |"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("| llama2-7b | 16384 | no | oom | — | — | — | — | — | OOM | — | oom | — | — | — | OOM |"), std::string::npos) << t;
  std::ostringstream other;
  render_results_summary(s, points, "a800", other);  // no run of that profile: ours all missing
  EXPECT_NE(other.str().find("| llama2-7b | 4096 | no | — | — |"), std::string::npos) << other.str();
}

TEST(ResultsSummary, MalformedReferenceNamesFileAndLine) {
  TempDir dir;
  jenga::harness::test::write_file(dir.file("bad.yaml"), "points:\n  - {source: paper-a800, model: llama2-7b, method: base, seq_len: 4096}\n");
  try {
    load_reference_points(dir.file("bad.yaml"));
    FAIL() << "a point without numbers must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:2"), std::string::npos) << e.what();
  }
  jenga::harness::test::write_file(dir.file("typo.yaml"), "points:\n  - {source: s, model: m, method: x, seq_len: 1, peak: 3}\n");
  EXPECT_THROW(load_reference_points(dir.file("typo.yaml")), Error);
}

TEST(ResultsSummary, TheRunWithMoreTimedStepsFillsACell) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  const Json m = "opt-350m";
  // A one-step memory run made later must not replace a three-step timing of the same point.
  auto three = run("a", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "base"}, {"steps", 4}, {"warmup", 1}},
                   {{"peak_allocated_mib", 1024}, {"step_ms", 60}});
  three.run.ended_at = "2026-11-30T01:00:00Z";
  auto one = run("b", "ok", {{"model", m}, {"seq_len", 4096}, {"method", "base"}, {"steps", 2}, {"warmup", 1}},
                 {{"peak_allocated_mib", 1024}, {"step_ms", 90}});
  one.run.ended_at = "2026-11-30T02:00:00Z";
  s.replace_runs({three, one});
  std::ostringstream out;
  render_results_summary(s, {}, "", out);
  EXPECT_NE(out.str().find("| opt-350m | 4096 | no | 1.00 | — | — | — | — | — | — | — | 0.060 |"), std::string::npos)
      << out.str();
}
