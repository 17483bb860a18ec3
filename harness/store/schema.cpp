#include "harness/store/schema.hpp"

namespace jenga::harness {

// Version 1. JSON columns hold compact JSON text. gpu/commit_id/torch_version/host repeat
// fields of `provenance` so that queries can filter and group on them without json_extract.
// steps/metrics/summaries are WITHOUT ROWID: their primary key is the only index they need
// (it also serves the ON DELETE CASCADE lookup by run_key).
static const char* const kV1 = R"sql(
CREATE TABLE runs (
  key           TEXT PRIMARY KEY NOT NULL,
  experiment    TEXT NOT NULL,
  profile       TEXT NOT NULL,
  task          TEXT NOT NULL,
  params        TEXT NOT NULL,
  status        TEXT NOT NULL,
  exit_code     INTEGER,
  signal        INTEGER,
  message       TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  ended_at      TEXT NOT NULL,
  duration_s    REAL NOT NULL,
  attempts      INTEGER NOT NULL,
  log_path      TEXT NOT NULL,
  log_size      INTEGER NOT NULL,
  log_mtime     INTEGER NOT NULL,
  provenance    TEXT NOT NULL,
  gpu           TEXT,
  commit_id     TEXT,
  torch_version TEXT,
  host          TEXT
);
CREATE INDEX runs_by_experiment ON runs(experiment, status);
CREATE INDEX runs_by_log_path ON runs(log_path);

CREATE TABLE steps (
  run_key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  step    INTEGER NOT NULL,
  data    TEXT NOT NULL,
  PRIMARY KEY (run_key, step)
) WITHOUT ROWID;

CREATE TABLE metrics (
  run_key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  name    TEXT NOT NULL,
  value   REAL,
  unit    TEXT NOT NULL,
  tags    TEXT NOT NULL,
  PRIMARY KEY (run_key, seq)
) WITHOUT ROWID;
CREATE INDEX metrics_by_name ON metrics(name);

CREATE TABLE summaries (
  run_key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  name    TEXT NOT NULL,
  value   REAL NOT NULL,
  PRIMARY KEY (run_key, name)
) WITHOUT ROWID;
)sql";

const std::vector<std::string>& schema_migrations() {
  static const std::vector<std::string> m = {kV1};
  return m;
}

}  // namespace jenga::harness
