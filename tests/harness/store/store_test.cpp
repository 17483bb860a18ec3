#include "harness/common/error.hpp"
#include "harness/store/store.hpp"
#include "tests/harness/store/db_dump.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

using namespace jenga::harness;
using jenga::harness::test::count_rows;
using jenga::harness::test::dump_store;
using jenga::harness::test::TempDir;

namespace {

RunRecords sample_run(const std::string& key, const std::string& experiment = "exp", const std::string& status = "ok") {
  RunRecords r;
  r.run.key = key;
  r.run.experiment = experiment;
  r.run.profile = "h100";
  r.run.task = "train-bench";
  r.run.params = {{"seq_len", 4096}, {"method", "jenga"}};
  r.run.status = status;
  r.run.exit_code = 0;
  r.run.message = status == "ok" ? "" : "went wrong";
  r.run.started_at = "2026-01-01T00:00:00Z";
  r.run.ended_at = "2026-01-01T00:01:00Z";
  r.run.duration_s = 60.5;
  r.run.attempts = 2;
  r.run.log_path = "logs/" + experiment + "/" + key + ".jsonl";
  r.run.log_size = 1234;
  r.run.log_mtime = 1700000000;
  r.run.provenance = {{"gpu", "NVIDIA H100"}, {"commit", "abc123"}, {"torch", "2.11"}, {"host", "node1"}, {"driver", "570"}};
  for (int i = 0; i < 5; ++i) {
    StepRow s;
    s.step = i;
    s.data = {{"step", i}, {"loss", 2.0 - i * 0.1}, {"phase_ms", {{"forward", 10.0}}}};
    r.steps.push_back(s);
  }
  StepRow raw;  // text form, as parse_log produces it
  raw.step = 5;
  raw.json = R"({"step":5,"loss":1.5})";
  r.steps.push_back(raw);
  MetricRow m;
  m.name = "ppl";
  m.value = 12.5;
  m.unit = "";
  m.tags = {{"length", 4096}};
  r.metrics.push_back(m);
  MetricRow null_metric;
  null_metric.name = "accuracy";
  null_metric.is_null = true;
  null_metric.unit = "%";
  r.metrics.push_back(null_metric);
  r.summary = {{"peak_mib", 30000.5}, {"step_ms", 123.25}};
  return r;
}

std::string query_text(Store& s, const char* sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(s.handle(), sql, -1, &st, nullptr), SQLITE_OK) << sql;
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return out;
}

}  // namespace

TEST(Store, CreatesSchemaWithVersionTableAndPragmas) {
  TempDir dir;
  Store s(dir.file("results.sqlite"));
  EXPECT_EQ(s.schema_version(), Store::kSchemaVersion);
  for (const char* t : {"runs", "steps", "metrics", "summaries", "schema_version"}) EXPECT_EQ(count_rows(s, t), t == std::string("schema_version") ? 1 : 0) << t;
  EXPECT_EQ(query_text(s, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(s, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(query_text(s, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(query_text(s, "SELECT version FROM schema_version"), std::to_string(Store::kSchemaVersion));
  EXPECT_EQ(s.path(), dir.file("results.sqlite"));
}

TEST(Store, MigratesAnEmptyFile) {
  TempDir dir;
  const std::string path = dir.file("empty.sqlite");
  { std::ofstream(path).flush(); }
  ASSERT_TRUE(std::filesystem::exists(path));
  ASSERT_EQ(std::filesystem::file_size(path), 0u);
  Store s(path);
  EXPECT_EQ(s.schema_version(), 1);
  s.replace_run(sample_run("k1"));
  EXPECT_EQ(count_rows(s, "runs"), 1);
}

TEST(Store, ReopenKeepsDataAndVersion) {
  TempDir dir;
  const std::string path = dir.file("r.sqlite");
  std::string before;
  {
    Store s(path);
    s.replace_run(sample_run("k1"));
    before = dump_store(s);
  }
  Store s(path);
  EXPECT_EQ(s.schema_version(), 1);
  EXPECT_EQ(count_rows(s, "schema_version"), 1);
  EXPECT_EQ(dump_store(s), before);
}

TEST(Store, NewerSchemaIsAClearError) {
  TempDir dir;
  const std::string path = dir.file("new.sqlite");
  {
    Store s(path);
    ASSERT_EQ(sqlite3_exec(s.handle(), "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  try {
    Store s(path);
    FAIL() << "opened a newer database";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("99"), std::string::npos) << m;
    EXPECT_NE(m.find("newer"), std::string::npos) << m;
    EXPECT_NE(m.find(path), std::string::npos) << m;
  }
}

TEST(Store, BadPathNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/results.sqlite");
  try {
    Store s(path);
    FAIL() << "opened " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Store, NotADatabaseNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("garbage.sqlite");
  { std::ofstream(path) << std::string(8192, 'x'); }
  try {
    Store s(path);
    FAIL() << "opened garbage";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("not a database"), std::string::npos) << m;
  }
}

TEST(Store, RoundTripsEveryField) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  const RunRecords in = sample_run("k1");
  s.replace_run(in);
  const auto r = s.run("k1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->experiment, "exp");
  EXPECT_EQ(r->profile, "h100");
  EXPECT_EQ(r->task, "train-bench");
  EXPECT_EQ(r->params, in.run.params);
  EXPECT_EQ(r->status, "ok");
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_FALSE(r->signal);
  EXPECT_EQ(r->started_at, in.run.started_at);
  EXPECT_EQ(r->ended_at, in.run.ended_at);
  EXPECT_DOUBLE_EQ(r->duration_s, 60.5);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(r->log_path, "logs/exp/k1.jsonl");
  EXPECT_EQ(r->log_size, 1234);
  EXPECT_EQ(r->log_mtime, 1700000000);
  EXPECT_EQ(r->provenance, in.run.provenance);
  EXPECT_EQ(query_text(s, "SELECT gpu || '/' || commit_id || '/' || torch_version || '/' || host FROM runs"),
            "NVIDIA H100/abc123/2.11/node1");

  const auto steps = s.steps("k1");
  ASSERT_EQ(steps.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(steps[i].step, i);
    EXPECT_EQ(steps[i].data, in.steps[i].data);
  }
  EXPECT_EQ(steps[5].data, (Json{{"step", 5}, {"loss", 1.5}}));
  EXPECT_EQ(steps[5].json, R"({"step":5,"loss":1.5})");

  const auto metrics = s.metrics("k1");
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].name, "ppl");
  EXPECT_FALSE(metrics[0].is_null);
  EXPECT_DOUBLE_EQ(metrics[0].value, 12.5);
  EXPECT_EQ(metrics[0].tags, (Json{{"length", 4096}}));
  EXPECT_EQ(metrics[1].name, "accuracy");
  EXPECT_TRUE(metrics[1].is_null);
  EXPECT_EQ(metrics[1].unit, "%");
  EXPECT_EQ(query_text(s, "SELECT count(*) FROM metrics WHERE value IS NULL"), "1");

  EXPECT_EQ(s.summary("k1"), (Json{{"peak_mib", 30000.5}, {"step_ms", 123.25}}));
  EXPECT_FALSE(s.run("nope"));
  EXPECT_TRUE(s.steps("nope").empty());
}

TEST(Store, MissingProvenanceFieldsAreNull) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  RunRecords r = sample_run("k1");
  r.run.provenance = {{"gpu", nullptr}, {"commit", 42}};
  s.replace_run(r);
  EXPECT_EQ(query_text(s, "SELECT count(*) FROM runs WHERE gpu IS NULL AND host IS NULL AND torch_version IS NULL"), "1");
  EXPECT_EQ(query_text(s, "SELECT commit_id FROM runs"), "42");
}

TEST(Store, ReplaceRunIsIdempotent) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  s.replace_run(sample_run("k1"));
  s.replace_run(sample_run("k2", "other"));
  const std::string once = dump_store(s);
  s.replace_run(sample_run("k1"));
  s.replace_runs({sample_run("k1"), sample_run("k2", "other")});
  EXPECT_EQ(dump_store(s), once);
  EXPECT_EQ(count_rows(s, "steps"), 12);

  // Replacing with fewer records leaves none of the old ones behind.
  RunRecords smaller = sample_run("k1");
  smaller.steps.resize(1);
  smaller.metrics.clear();
  smaller.summary = Json::object();
  s.replace_run(smaller);
  EXPECT_EQ(s.steps("k1").size(), 1u);
  EXPECT_TRUE(s.metrics("k1").empty());
  EXPECT_TRUE(s.summary("k1").empty());
  EXPECT_EQ(s.steps("k2").size(), 6u);
}

TEST(Store, SameLogPathReplacesTheOldKey) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  s.replace_run(sample_run("k1"));
  RunRecords moved = sample_run("k9");
  moved.run.log_path = "logs/exp/k1.jsonl";  // the same file now names another run
  s.replace_run(moved);
  EXPECT_FALSE(s.run("k1"));
  EXPECT_TRUE(s.run("k9"));
  EXPECT_EQ(count_rows(s, "steps"), 6);
}

TEST(Store, DeleteCascades) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  s.replace_run(sample_run("k1"));
  s.replace_run(sample_run("k2"));
  s.delete_run("k1");
  EXPECT_FALSE(s.run("k1"));
  EXPECT_EQ(count_rows(s, "runs"), 1);
  EXPECT_EQ(count_rows(s, "steps"), 6);
  EXPECT_EQ(count_rows(s, "metrics"), 2);
  EXPECT_EQ(count_rows(s, "summaries"), 2);
  s.delete_logs({"logs/exp/k2.jsonl", "logs/none.jsonl"});
  for (const char* t : {"runs", "steps", "metrics", "summaries"}) EXPECT_EQ(count_rows(s, t), 0) << t;
}

TEST(Store, FailedBatchWritesNothing) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  RunRecords bad = sample_run("k2");
  bad.summary["label"] = "not a number";
  EXPECT_THROW(s.replace_runs({sample_run("k1"), bad}), Error);
  EXPECT_EQ(count_rows(s, "runs"), 0);
  EXPECT_EQ(count_rows(s, "steps"), 0);
  // The store stays usable after the rollback.
  s.replace_run(sample_run("k1"));
  EXPECT_EQ(count_rows(s, "runs"), 1);

  RunRecords nokey = sample_run("");
  EXPECT_THROW(s.replace_run(nokey), Error);
}

TEST(Store, DuplicateStepIndexKeepsTheLater) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  RunRecords r = sample_run("k1");
  StepRow again;
  again.step = 2;
  again.json = R"({"step":2,"loss":0})";
  r.steps.push_back(again);
  s.replace_run(r);
  const auto steps = s.steps("k1");
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_EQ(steps[2].data["loss"], 0);
}

TEST(Store, StatusCountsAndFilters) {
  TempDir dir;
  Store s(dir.file("r.sqlite"));
  s.replace_runs({sample_run("a1", "a"), sample_run("a2", "a", "oom"), sample_run("a3", "a", "oom"),
                  sample_run("b1", "b", "crashed")});
  using Row = std::tuple<std::string, std::string, int>;
  EXPECT_EQ(s.status_counts(), (std::vector<Row>{{"a", "ok", 1}, {"a", "oom", 2}, {"b", "crashed", 1}}));
  RunFilter f;
  f.experiment = "a";
  EXPECT_EQ(s.status_counts(f), (std::vector<Row>{{"a", "ok", 1}, {"a", "oom", 2}}));
  RunFilter bad;
  bad.not_ok = true;
  const auto failing = s.runs(bad);
  ASSERT_EQ(failing.size(), 3u);
  EXPECT_EQ(failing[0].key, "a2");
  EXPECT_EQ(failing[2].key, "b1");
  bad.limit = 2;
  EXPECT_EQ(s.runs(bad).size(), 2u);
  RunFilter st;
  st.status = "oom";
  st.profile = "h100";
  EXPECT_EQ(s.runs(st).size(), 2u);
  st.profile = "a40";
  EXPECT_TRUE(s.runs(st).empty());
  EXPECT_EQ(s.runs("b").size(), 1u);
  EXPECT_EQ(s.runs().size(), 4u);
  EXPECT_EQ(s.summary_values("b").size(), 2u);
  EXPECT_EQ(s.summary_values().size(), 8u);
  const auto stamps = s.log_stamps();
  ASSERT_EQ(stamps.size(), 4u);
  EXPECT_EQ(stamps[0], std::make_tuple(std::string("logs/a/a1.jsonl"), std::int64_t{1234}, std::int64_t{1700000000}));
  EXPECT_EQ(s.log_owners()[3], std::make_pair(std::string("logs/b/b1.jsonl"), std::string("b1")));
}
