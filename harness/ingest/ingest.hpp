// Reading run logs (logs/<experiment>/<run-key>.jsonl) into RunRecords and into the Store.
// A log holds one or more attempts; each begins with a harness-written `run` record and, when
// the harness saw the process end, finishes with an `exit` record. The last attempt counts.
#pragma once

#include "harness/store/store.hpp"

#include <string>
#include <vector>

namespace jenga::harness {

struct LogProblem {
  std::string file;
  int line = 0;
  std::string what;
};

struct ParsedLog {
  RunRecords records;
  std::vector<LogProblem> problems;  // malformed record lines (kept as text; never fatal)
};

// Parses one log file. Status of the last attempt: the `exit` record's, else the worker's
// `end` record's, else "crashed" (process vanished without a word; never silently ok).
// Steps come as StepRow::json (the log's own text minus "event"), not as parsed `data`.
// Throws Error only when the file cannot be read or holds no `run` record at all.
ParsedLog parse_log(const std::string& path, const std::string& repo_root);

struct IngestStats {
  int files_seen = 0;
  int files_ingested = 0;   // new or changed since the last ingest
  int files_skipped = 0;    // unchanged (size + mtime match)
  int files_failed = 0;     // unreadable / no run record / run key already another log's: reported, not fatal
  std::vector<LogProblem> problems;
};

// Ingests every *.jsonl under `logs_dir` (recursively). Unchanged files are skipped unless
// `force`; runs whose log has disappeared are removed from the index. When two logs hold the
// same run key, the first path (in byte order) is indexed. Idempotent. Error if `logs_dir`
// is not a directory (an empty index from a mistyped path would look like data loss).
IngestStats ingest_tree(Store& store, const std::string& logs_dir, const std::string& repo_root,
                        bool force = false);

// Ingests one file (used by the scheduler after each run); returns its problems. Throws Error
// as parse_log does.
std::vector<LogProblem> ingest_file(Store& store, const std::string& path, const std::string& repo_root);

}  // namespace jenga::harness
