// ingest_tree / ingest_file: bring the index in line with the log files.
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "harness/ingest/log_file.hpp"
#include "harness/ingest/parse_pool.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

namespace jenga::harness {

namespace fs = std::filesystem;

namespace {

// A transaction per this many step rows (or runs): bounded memory, few commits.
constexpr std::size_t kBatchSteps = 250000;
constexpr std::size_t kBatchRuns = 512;

struct LogEntry {
  std::string path;  // as found (for reading)
  std::string rel;   // as indexed
  std::int64_t size = 0;
  std::int64_t mtime = 0;
};

std::vector<LogEntry> walk_logs(const std::string& logs_dir, const std::string& repo_root,
                                std::vector<LogProblem>& problems) {
  std::vector<LogEntry> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(logs_dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw Error("cannot list logs directory: " + ec.message(), Where{logs_dir, 0, 0});
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      problems.push_back({logs_dir, 0, "listing stopped early: " + ec.message()});
      break;
    }
    const fs::path& p = it->path();
    if (p.extension() != ".jsonl") continue;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({p.string(), repo_relative(p.string(), repo_root), static_cast<std::int64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtime)});
  }
  std::sort(out.begin(), out.end(), [](const LogEntry& a, const LogEntry& b) { return a.rel < b.rel; });
  return out;
}

bool is_under(const std::string& path, const std::string& dir) {
  if (dir == ".") return !path.empty() && path[0] != '/' && path.rfind("..", 0) != 0;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

IngestStats ingest_tree(Store& store, const std::string& logs_dir, const std::string& repo_root, bool force) {
  std::error_code ec;
  if (!fs::is_directory(logs_dir, ec)) throw Error("logs directory not found", Where{logs_dir, 0, 0});
  IngestStats stats;
  const std::vector<LogEntry> logs = walk_logs(logs_dir, repo_root, stats.problems);
  stats.files_seen = static_cast<int>(logs.size());

  // What the index holds now.
  std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> stamps;
  for (auto& [path, size, mtime] : store.log_stamps()) stamps.emplace(path, std::make_pair(size, mtime));
  std::unordered_map<std::string, std::string> owner_of_key;  // run key -> log path
  std::unordered_map<std::string, std::string> key_of_log;    // log path -> run key
  for (auto& [path, key] : store.log_owners()) {
    owner_of_key[key] = path;
    key_of_log[path] = key;
  }
  std::set<std::string> present;
  for (const LogEntry& e : logs) present.insert(e.rel);

  // Runs whose log has gone from under logs_dir.
  const std::string logs_rel = repo_relative(logs_dir, repo_root);
  std::vector<std::string> gone;
  for (const auto& [path, key] : key_of_log)
    if (is_under(path, logs_rel) && !present.count(path)) gone.push_back(path);
  std::sort(gone.begin(), gone.end());
  store.delete_logs(gone);
  for (const std::string& p : gone) {
    const std::string& key = key_of_log[p];
    if (auto it = owner_of_key.find(key); it != owner_of_key.end() && it->second == p) owner_of_key.erase(it);
  }

  std::vector<std::string> to_parse;
  for (const LogEntry& e : logs) {
    const auto it = stamps.find(e.rel);
    if (!force && it != stamps.end() && it->second == std::make_pair(e.size, e.mtime)) {
      ++stats.files_skipped;
      continue;
    }
    to_parse.push_back(e.path);
  }

  // Parse in the background, write here in file order (which decides key conflicts).
  std::vector<RunRecords> batch;
  std::size_t batch_steps = 0;
  auto flush = [&] {
    store.replace_runs(batch);
    batch.clear();
    batch_steps = 0;
  };
  ParsePool pool(to_parse, repo_root);
  for (std::size_t i = 0; i < to_parse.size(); ++i) {
    ParseOutcome got = pool.take(i);
    const std::string rel = repo_relative(to_parse[i], repo_root);
    // Whatever the file says now, the key it held before is no longer its claim.
    if (const auto old = key_of_log.find(rel); old != key_of_log.end()) {
      if (auto it = owner_of_key.find(old->second); it != owner_of_key.end() && it->second == rel) owner_of_key.erase(it);
    }
    if (!got.parsed) {
      ++stats.files_failed;
      stats.problems.push_back({rel, got.where_line, got.error});
      // The file yields no run any more; neither may the index.
      if (key_of_log.count(rel)) store.delete_logs({rel});
      continue;
    }
    ParsedLog& p = *got.parsed;
    stats.problems.insert(stats.problems.end(), p.problems.begin(), p.problems.end());
    const std::string& key = p.records.run.key;
    const auto owner = owner_of_key.find(key);
    if (owner != owner_of_key.end() && owner->second != rel && present.count(owner->second) && owner->second < rel) {
      // Two logs claim one run (a copied file): the first path wins, every time.
      ++stats.files_failed;
      stats.problems.push_back({rel, 0, "run key " + key + " is already the run of " + owner->second + "; not indexed"});
      if (key_of_log.count(rel)) store.delete_logs({rel});
      continue;
    }
    owner_of_key[key] = rel;
    ++stats.files_ingested;
    batch_steps += p.records.steps.size();
    batch.push_back(std::move(p.records));
    if (batch_steps >= kBatchSteps || batch.size() >= kBatchRuns) flush();
  }
  flush();
  return stats;
}

std::vector<LogProblem> ingest_file(Store& store, const std::string& path, const std::string& repo_root) {
  ParsedLog p = parse_log(path, repo_root);
  store.replace_run(p.records);
  return std::move(p.problems);
}

}  // namespace jenga::harness
