#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "tests/harness/ingest/log_writer.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace jenga::harness;
using jenga::harness::test::LogWriter;
using jenga::harness::test::TempDir;
using jenga::protocol::Status;

namespace {

ParsedLog parse(const TempDir& dir, const LogWriter& w, const std::string& name = "logs/exp/k1.jsonl") {
  const std::string path = dir.file(name);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  w.write(path);
  return parse_log(path, dir.str());
}

bool has_problem(const ParsedLog& p, int line, const std::string& what) {
  for (const auto& pr : p.problems)
    if (pr.line == line && pr.what.find(what) != std::string::npos) return true;
  return false;
}

std::string problems_text(const ParsedLog& p) {
  std::string s;
  for (const auto& pr : p.problems) s += pr.file + ":" + std::to_string(pr.line) + ": " + pr.what + "\n";
  return s;
}

}  // namespace

TEST(ParseLog, OkRun) {
  TempDir dir;
  LogWriter w;
  w.run("k1").line("worker: loading model").start();
  for (int i = 0; i < 3; ++i) w.step(i, 2.0 - i);
  w.rec(jenga::protocol::make_metric("ppl", 12.5, "", {{"length", 4096}}));
  w.line(R"({"event":"metric","name":"acc","value":null,"unit":"%"})");
  w.rec(jenga::protocol::make_summary({{"peak_mib", 1000.5}}));
  w.rec(jenga::protocol::make_summary({{"step_ms", 30.75}}));
  // null = declared missing (memory of a CPU run): absent from the summary, not a problem.
  w.rec(jenga::protocol::make_summary({{"peak_reserved_mib", nullptr}}));
  w.end(Status::Ok).exit(Status::Ok);
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(p.problems.empty()) << problems_text(p);
  EXPECT_FALSE(p.records.summary.contains("peak_reserved_mib"));
  const RunRow& r = p.records.run;
  EXPECT_EQ(r.key, "k1");
  EXPECT_EQ(r.experiment, "exp");
  EXPECT_EQ(r.profile, "h100");
  EXPECT_EQ(r.task, "train-bench");
  EXPECT_EQ(r.params, (Json{{"seq_len", 1024}}));
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.signal);
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.started_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(r.ended_at, "2026-01-01T00:00:12Z");
  EXPECT_DOUBLE_EQ(r.duration_s, 12.5);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.log_path, "logs/exp/k1.jsonl");
  EXPECT_EQ(r.log_size, static_cast<std::int64_t>(w.text().size()));
  EXPECT_GT(r.log_mtime, 1600000000);
  EXPECT_EQ(r.provenance, (Json{{"gpu", "NVIDIA H100"}, {"commit", "c0ffee"}, {"host", "n1"}}));

  ASSERT_EQ(p.records.steps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(p.records.steps[i].step, i);
    Json expect = jenga::protocol::make_step(i, {{"forward", 10.5}, {"backward", 20.25}}, {{"peak_allocated", 1000.0 + i}},
                                             {{"loss", 2.0 - i}});
    expect.erase("event");
    EXPECT_EQ(Json::parse(p.records.steps[i].json), expect);
  }
  ASSERT_EQ(p.records.metrics.size(), 2u);
  EXPECT_EQ(p.records.metrics[0].name, "ppl");
  EXPECT_DOUBLE_EQ(p.records.metrics[0].value, 12.5);
  EXPECT_EQ(p.records.metrics[0].tags, (Json{{"length", 4096}}));
  EXPECT_TRUE(p.records.metrics[1].is_null);
  EXPECT_EQ(p.records.metrics[1].unit, "%");
  EXPECT_EQ(p.records.summary, (Json{{"peak_mib", 1000.5}, {"step_ms", 30.75}}));
}

TEST(ParseLog, LastAttemptCounts) {
  TempDir dir;
  LogWriter w;
  w.run("k1", 1).start().step(0).step(1).step(2).rec(jenga::protocol::make_summary({{"old", 1}}));
  w.exit(Status::Crashed, nullptr, 9, "killed by signal 9");
  w.run("k1", 2).start().step(0, 5.0).step(1, 4.0).end(Status::Ok).exit(Status::Ok);
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(p.problems.empty()) << problems_text(p);
  const RunRow& r = p.records.run;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.message, "");
  EXPECT_FALSE(r.signal);
  EXPECT_EQ(r.started_at, "2026-01-02T00:00:00Z");
  ASSERT_EQ(p.records.steps.size(), 2u);
  EXPECT_EQ(Json::parse(p.records.steps[0].json)["loss"], 5.0);
  EXPECT_TRUE(p.records.summary.empty());
}

TEST(ParseLog, CrashedAttemptKeepsSignal) {
  TempDir dir;
  LogWriter w;
  w.run("k1").start().step(0).exit(Status::Crashed, nullptr, 11);
  const ParsedLog p = parse(dir, w);
  EXPECT_EQ(p.records.run.status, "crashed");
  EXPECT_EQ(p.records.run.signal, 11);
  EXPECT_FALSE(p.records.run.exit_code);
}

TEST(ParseLog, NoEndIsCrashed) {
  TempDir dir;
  LogWriter w;
  w.run("k1").start().step(0).step(1);
  const ParsedLog p = parse(dir, w);
  EXPECT_EQ(p.records.run.status, "crashed");
  EXPECT_EQ(p.records.run.message, "log ends without an end record");
  EXPECT_EQ(p.records.steps.size(), 2u);
  EXPECT_EQ(p.records.run.attempts, 1);
}

TEST(ParseLog, EarlierAttemptsEndDoesNotCount) {
  TempDir dir;
  LogWriter w;
  w.run("k1", 1).start().end(Status::Ok).exit(Status::Ok);
  w.run("k1", 2).start().step(0);  // harness died mid-run
  const ParsedLog p = parse(dir, w);
  EXPECT_EQ(p.records.run.status, "crashed");
  EXPECT_EQ(p.records.run.attempts, 2);
}

TEST(ParseLog, EndWithoutExit) {
  TempDir dir;
  LogWriter w;
  w.run("k1").start().step(0).end(Status::Oom, "CUDA out of memory");
  const ParsedLog p = parse(dir, w);
  EXPECT_EQ(p.records.run.status, "oom");
  EXPECT_EQ(p.records.run.message, "CUDA out of memory");
  EXPECT_FALSE(p.records.run.exit_code);
}

TEST(ParseLog, ExitWinsOverEnd) {
  TempDir dir;
  LogWriter w;
  w.run("k1").start().end(Status::Error, "worker said error").exit(Status::Oom, 1, nullptr);
  const ParsedLog p = parse(dir, w);
  EXPECT_EQ(p.records.run.status, "oom");
  EXPECT_EQ(p.records.run.exit_code, 1);
  EXPECT_EQ(p.records.run.message, "worker said error");  // exit had none of its own

  LogWriter w2;
  w2.run("k2").start().end(Status::Ok).exit(Status::Timeout, nullptr, 15, "timed out after 60 s");
  const ParsedLog p2 = parse(dir, w2, "logs/exp/k2.jsonl");
  EXPECT_EQ(p2.records.run.status, "timeout");
  EXPECT_EQ(p2.records.run.signal, 15);
  EXPECT_EQ(p2.records.run.message, "timed out after 60 s");
}

TEST(ParseLog, DuplicateStepReplacesEarlier) {
  TempDir dir;
  LogWriter w;
  w.run("k1").start().step(0).step(1, 9.0).step(2).step(1, 1.0).step(0, 7.0).end(Status::Ok);
  const ParsedLog p = parse(dir, w);
  ASSERT_EQ(p.records.steps.size(), 3u);
  EXPECT_EQ(p.records.steps[0].step, 0);
  EXPECT_EQ(Json::parse(p.records.steps[0].json)["loss"], 7.0);
  EXPECT_EQ(Json::parse(p.records.steps[1].json)["loss"], 1.0);
  EXPECT_EQ(p.records.steps[2].step, 2);
}

TEST(ParseLog, GarbageAndMalformedLinesAreProblems) {
  TempDir dir;
  LogWriter w;
  w.run("k1");                                          // 1
  w.line("plain text {not a record}");                  // 2 free text
  w.line("{\"event\":\"step\",\"step\":1");             // 3 truncated
  w.line("{\"event\":\"step\",\"step\":\"one\"}");      // 4 wrong type
  w.line("{\"event\":\"launch\"}");                     // 5 unknown event
  w.line("   {]");                                      // 6
  w.line("");                                           // 7 empty
  w.line(std::string("{\"event\":\"step\",\"step\":3,\"x\":\"\xff\xfe\"}"));  // 8 invalid UTF-8
  w.line("{\"event\":\"summary\",\"values\":{\"peak\":1,\"label\":\"big\"}}");  // 9
  w.line("{\"event\":\"exit\",\"status\":\"ok\",\"exit_code\":\"zero\",\"duration_s\":\"long\"}");  // 10
  w.line("{\"event\":\"step\",\"step\":2,\"loss\":1.5}");  // 11 a good one
  w.line("\x01\x02\x03 binary junk");                   // 12 free text
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(has_problem(p, 3, "not valid JSON")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 4, "integer \"step\"")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 5, "unknown event")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 6, "not valid JSON")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 8, "not valid JSON")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 9, "\"label\" is not a number")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 10, "exit_code")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 10, "duration_s")) << problems_text(p);
  EXPECT_EQ(p.problems.size(), 8u) << problems_text(p);
  for (const auto& pr : p.problems) EXPECT_EQ(pr.file, "logs/exp/k1.jsonl");
  EXPECT_EQ(p.records.summary, (Json{{"peak", 1}}));
  EXPECT_EQ(p.records.run.status, "ok");
  EXPECT_FALSE(p.records.run.exit_code);
  ASSERT_EQ(p.records.steps.size(), 1u);
  EXPECT_EQ(p.records.steps[0].step, 2);
}

TEST(ParseLog, HugeAndDeepLinesDoNotCrash) {
  TempDir dir;
  LogWriter w;
  w.run("k1");
  w.line("{\"event\":\"step\",\"step\":0,\"blob\":\"" + std::string(17u << 20, 'a') + "\"}");  // 2
  w.line("{\"event\":\"step\",\"step\":1,\"deep\":" + std::string(200000, '[') + std::string(200000, ']') + "}");  // 3
  w.line("{\"event\":\"metric\",\"name\":\"m\",\"value\":1,\"tags\":{\"t\":" + std::string(100000, '[') + "}}");  // 4
  w.line(std::string(20u << 20, 'x'));  // free text, just long
  w.step(5).end(Status::Ok);
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(has_problem(p, 2, "16 MiB")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 3, "nested deeper")) << problems_text(p);
  EXPECT_TRUE(has_problem(p, 4, "nested deeper")) << problems_text(p);
  EXPECT_EQ(p.problems.size(), 3u) << problems_text(p);
  ASSERT_EQ(p.records.steps.size(), 1u);
  EXPECT_EQ(p.records.steps[0].step, 5);
}

TEST(ParseLog, RecordsBeforeTheFirstRunAreOneProblem) {
  TempDir dir;
  LogWriter w;
  w.start().step(0).step(1).run("k1").step(0).end(Status::Ok);
  const ParsedLog p = parse(dir, w);
  ASSERT_EQ(p.problems.size(), 1u) << problems_text(p);
  EXPECT_EQ(p.problems[0].line, 1);
  EXPECT_NE(p.problems[0].what.find("3 record(s) before the first `run`"), std::string::npos);
  EXPECT_EQ(p.records.steps.size(), 1u);
}

TEST(ParseLog, EmptyRunKeyIsAProblem) {
  TempDir dir;
  LogWriter w;
  w.run("k1").step(0).run("").step(1).end(Status::Ok);
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(has_problem(p, 3, "empty \"run_key\"")) << problems_text(p);
  EXPECT_EQ(p.records.run.key, "k1");
  EXPECT_EQ(p.records.run.attempts, 1);
  EXPECT_EQ(p.records.steps.size(), 2u);
}

TEST(ParseLog, NoRunRecordOrNoFileIsAnError) {
  TempDir dir;
  LogWriter w;
  w.start().step(0).end(Status::Ok);
  EXPECT_THROW(parse(dir, w), Error);
  LogWriter empty;
  EXPECT_THROW(parse(dir, empty, "logs/empty.jsonl"), Error);
  try {
    parse_log(dir.file("missing.jsonl"), dir.str());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.jsonl"), std::string::npos) << e.what();
  }
}

TEST(ParseLog, CrLfAndIndentedRecords) {
  TempDir dir;
  LogWriter w;
  w.line(jenga::protocol::make_run("exp", "h100", "k1", "t", Json::object(), Json::array(), 1, "s").dump() + "\r");
  w.line("  \t{\"step\":3,\"event\":\"step\",\"loss\":1} \r");
  w.line("{\"event\":\"end\",\"status\":\"ok\"}\r");
  const ParsedLog p = parse(dir, w);
  EXPECT_TRUE(p.problems.empty()) << problems_text(p);
  ASSERT_EQ(p.records.steps.size(), 1u);
  EXPECT_EQ(Json::parse(p.records.steps[0].json), (Json{{"step", 3}, {"loss", 1}}));
  EXPECT_EQ(p.records.run.status, "ok");
}

TEST(ParseLog, PathOutsideRepoRootStaysAbsolute) {
  TempDir dir, other;
  LogWriter w;
  w.run("k1").end(Status::Ok);
  const std::string path = other.file("k1.jsonl");
  w.write(path);
  const ParsedLog p = parse_log(path, dir.str());
  EXPECT_EQ(p.records.run.log_path, std::filesystem::path(path).lexically_normal().string());
  const ParsedLog q = parse_log(path, other.str() + "/");
  EXPECT_EQ(q.records.run.log_path, "k1.jsonl");
}
