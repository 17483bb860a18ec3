// The SQLite index of runs (results.sqlite). Rebuildable from logs/ at any time; one writer.
// WAL mode, prepared statements only, every SQLite return code checked (Error on failure).
#pragma once

#include "harness/spec/param.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

struct sqlite3;

namespace jenga::harness {

// Everything the index knows of one run (one log file's last attempt).
struct RunRow {
  std::string key;
  std::string experiment;
  std::string profile;
  std::string task;
  Json params = Json::object();
  std::string status;          // ok | oom | diverged | error | timeout | crashed | killed | running
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string message;         // end record's message or harness note
  std::string started_at;      // ISO-8601 UTC
  std::string ended_at;
  double duration_s = 0;
  int attempts = 1;
  std::string log_path;        // relative to the repo root
  std::int64_t log_size = 0;   // bytes, for staleness checks
  std::int64_t log_mtime = 0;  // seconds since epoch
  Json provenance = Json::object();  // commit, torch, cuda, gpu, driver, host, ...
};

struct StepRow {
  std::int64_t step = 0;
  Json data = Json::object();  // the whole step record minus "event"
  // When non-empty: `data` as JSON text, and what the store writes (then `data` is not read).
  // parse_log fills only this, keeping the log's own text to spare a parse and a dump per
  // step; Store::steps() fills both.
  std::string json;
};

struct MetricRow {
  std::string name;
  double value = 0;
  bool is_null = false;
  std::string unit;
  Json tags = Json::object();
};

// A run with its records, as ingest produces it and replace_run() stores it.
struct RunRecords {
  RunRow run;
  std::vector<StepRow> steps;
  std::vector<MetricRow> metrics;
  Json summary = Json::object();  // name -> number (merged summary records)
};

// Which runs a query covers; empty fields match everything.
struct RunFilter {
  std::string experiment;
  std::string profile;
  std::string status;
  bool not_ok = false;  // only runs whose status is not "ok"
  std::size_t limit = 0;  // runs(): at most this many (0 = all); status_counts() ignores it
};

// One SQLite connection; not thread-safe (one writer: the harness).
class Store {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if absent) and migrates to kSchemaVersion. Error names the path.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Replaces everything stored for records.run.key in one transaction (idempotent). A log file
  // holds one run, so a stored run with the same non-empty log_path but another key goes too.
  void replace_run(const RunRecords& records);
  // Many runs, one transaction (bulk ingest).
  void replace_runs(const std::vector<RunRecords>& records);
  void delete_run(const std::string& key);
  // Removes the runs indexed from these log files (one transaction).
  void delete_logs(const std::vector<std::string>& log_paths);

  std::optional<RunRow> run(const std::string& key) const;
  std::vector<RunRow> runs(const std::string& experiment = {}) const;     // all if empty
  std::vector<RunRow> runs(const RunFilter& filter) const;  // ordered by experiment, key
  std::vector<StepRow> steps(const std::string& key) const;
  std::vector<MetricRow> metrics(const std::string& key) const;
  Json summary(const std::string& key) const;
  // (experiment, status) -> count, for `jenga status`.
  std::vector<std::tuple<std::string, std::string, int>> status_counts(const RunFilter& filter = {}) const;
  // (run key, name, value) of every summary value of the experiment's runs (all if empty).
  std::vector<std::tuple<std::string, std::string, double>> summary_values(const std::string& experiment = {}) const;
  // (log_path, run key) of every stored run: who owns which key, for ingest's conflict check.
  std::vector<std::pair<std::string, std::string>> log_owners() const;
  // log_path -> (size, mtime) of what is stored, for staleness checks in ingest.
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> log_stamps() const;

  int schema_version() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const;

 private:
  struct Impl;
  void write_run(const RunRecords& records);  // inside an open transaction
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jenga::harness
