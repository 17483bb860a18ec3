// Store: opening, migrating and writing. Reads are in store_query.cpp.
#include "harness/store/store.hpp"

#include "harness/common/error.hpp"
#include "harness/store/schema.hpp"
#include "harness/store/store_impl.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace jenga::harness {

namespace {

// Large pages: the index is written in bulk (a million step rows of ~250 bytes) and read in
// ranges; 64 KiB pages cut ingest time by a third against the 4 KiB default.
constexpr int kPageSize = 65536;
constexpr int kBusyTimeoutMs = 10000;

int read_version(sqlite::Db& db) {
  sqlite::Statement has(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  has.step();
  if (has.column_int64(0) == 0) return 0;
  sqlite::Statement v(db, "SELECT max(version) FROM schema_version");
  if (!v.step() || v.is_null(0)) return 0;
  return v.column_int(0);
}

void check_not_newer(int version, const std::string& path) {
  if (version > Store::kSchemaVersion)
    throw Error("database " + path + " has schema version " + std::to_string(version) +
                ", newer than this jenga understands (" + std::to_string(Store::kSchemaVersion) +
                "); update jenga, or rebuild the index from logs/ into a new file with `jenga ingest`");
}

void migrate(sqlite::Db& db, const std::string& path) {
  const auto& steps = schema_migrations();
  if (static_cast<int>(steps.size()) != Store::kSchemaVersion)
    throw Error("internal: " + std::to_string(steps.size()) + " schema migrations for schema version " +
                std::to_string(Store::kSchemaVersion));
  int version = read_version(db);
  check_not_newer(version, path);
  if (version == Store::kSchemaVersion) return;

  sqlite::Transaction tx(db);
  version = read_version(db);  // another process may have migrated meanwhile
  check_not_newer(version, path);
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  for (int v = version; v < Store::kSchemaVersion; ++v) {
    try {
      db.exec(steps[static_cast<std::size_t>(v)]);
    } catch (const Error& e) {
      throw Error("migrating " + path + " to schema version " + std::to_string(v + 1) + ": " + e.message());
    }
  }
  db.exec("DELETE FROM schema_version");
  sqlite::Statement set(db, "INSERT INTO schema_version (version) VALUES (?1)");
  set.bind(1, Store::kSchemaVersion).run();
  tx.commit();
}

// Text of a provenance field for its query column; NULL when absent or not a scalar.
void bind_provenance(sqlite::Statement& st, int i, const Json& prov, const char* key, std::string& keep) {
  if (!prov.is_object()) {
    st.bind_null(i);
    return;
  }
  const auto it = prov.find(key);
  if (it == prov.end() || it->is_null() || it->is_structured()) {
    st.bind_null(i);
    return;
  }
  keep = it->is_string() ? it->get<std::string>() : json_text(*it);
  st.bind(i, keep);
}

// Indices of the steps to write: all, in order, unless a step index repeats, when only the
// last record of each index is kept.
std::vector<std::size_t> step_order(const std::vector<StepRow>& steps) {
  std::vector<std::size_t> order(steps.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  bool increasing = true;
  for (std::size_t i = 1; i < steps.size() && increasing; ++i) increasing = steps[i - 1].step < steps[i].step;
  if (increasing) return order;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return steps[a].step < steps[b].step; });
  std::vector<std::size_t> last;
  for (std::size_t k = 0; k < order.size(); ++k)
    if (k + 1 == order.size() || steps[order[k + 1]].step != steps[order[k]].step) last.push_back(order[k]);
  return last;
}

}  // namespace

Store::Store(const std::string& path) : path_(path), impl_(std::make_unique<Impl>(path)) {
  sqlite::Db& db = impl_->db;
  const int rc = sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  if (rc != SQLITE_OK) db.fail(rc, "setting busy timeout failed");
  try {
    // page_size only takes effect before the first table exists (and never once in WAL).
    if (db.query_int("PRAGMA page_count") == 0) db.exec("PRAGMA page_size = " + std::to_string(kPageSize));
    const auto mode = db.query_text("PRAGMA journal_mode = WAL");
    if (!mode || (*mode != "wal" && *mode != "memory"))
      throw Error("sqlite: cannot switch " + path + " to WAL journal mode (got " + mode.value_or("nothing") + ")");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    if (db.query_int("PRAGMA foreign_keys") != 1) throw Error("sqlite: foreign keys unavailable in " + path);
    db.exec("PRAGMA cache_size = -16384");
    // A bulk ingest grows the WAL to the size of what it wrote; give that space back after.
    db.exec("PRAGMA journal_size_limit = 67108864");
    migrate(db, path);
  } catch (const Error& e) {
    // Name the file once, whatever layer failed.
    if (e.message().find(path) != std::string::npos) throw;
    throw Error("opening " + path + ": " + e.message());
  }
}

Store::~Store() = default;

sqlite3* Store::handle() const { return impl_->db.handle(); }

int Store::schema_version() const { return read_version(impl_->db); }

void Store::write_run(const RunRecords& rec) {
  const RunRow& r = rec.run;
  if (r.key.empty()) throw Error("store: run without a key (log " + r.log_path + ")");
  {
    sqlite::Use del(impl_->stmt("DELETE FROM runs WHERE key = ?1 OR (log_path = ?2 AND ?2 <> '')"));
    del->bind(1, r.key).bind(2, r.log_path).run();
  }
  {
    sqlite::Use ins(impl_->stmt(
        "INSERT INTO runs (key, experiment, profile, task, params, status, exit_code, signal, message, "
        "started_at, ended_at, duration_s, attempts, log_path, log_size, log_mtime, provenance, gpu, commit_id, "
        "torch_version, host) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?19, ?20, ?21)"));
    const std::string params = json_text(r.params);
    const std::string prov = json_text(r.provenance);
    std::string gpu, commit, torch, host;
    ins->bind(1, r.key).bind(2, r.experiment).bind(3, r.profile).bind(4, r.task).bind(5, params);
    ins->bind(6, r.status).bind(7, r.exit_code).bind(8, r.signal).bind(9, r.message);
    ins->bind(10, r.started_at).bind(11, r.ended_at).bind(12, r.duration_s).bind(13, r.attempts);
    ins->bind(14, r.log_path).bind(15, r.log_size).bind(16, r.log_mtime).bind(17, prov);
    bind_provenance(*ins, 18, r.provenance, "gpu", gpu);
    bind_provenance(*ins, 19, r.provenance, "commit", commit);
    bind_provenance(*ins, 20, r.provenance, "torch", torch);
    bind_provenance(*ins, 21, r.provenance, "host", host);
    ins->run();
  }
  if (!rec.steps.empty()) {
    // Plain INSERT: OR REPLACE would make SQLite keep a statement journal per row (a page
    // copy each, 30x slower here). A later duplicate step index replaces the earlier, as in
    // a log, by writing only the last of each index.
    sqlite::Use ins(impl_->stmt("INSERT INTO steps (run_key, step, data) VALUES (?1, ?2, ?3)"));
    std::string text;
    for (const std::size_t i : step_order(rec.steps)) {
      const StepRow& s = rec.steps[i];
      ins->bind(1, r.key).bind(2, static_cast<std::int64_t>(s.step));
      if (!s.json.empty()) {
        ins->bind(3, s.json);
      } else {
        text = json_text(s.data);
        ins->bind(3, text);
      }
      ins->run();
      ins->reset();
    }
  }
  if (!rec.metrics.empty()) {
    sqlite::Use ins(impl_->stmt("INSERT INTO metrics (run_key, seq, name, value, unit, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    std::int64_t seq = 0;
    for (const MetricRow& m : rec.metrics) {
      const std::string tags = json_text(m.tags.is_null() ? Json::object() : m.tags);
      ins->bind(1, r.key).bind(2, seq++).bind(3, m.name).bind(5, m.unit).bind(6, tags);
      if (m.is_null)
        ins->bind_null(4);
      else
        ins->bind(4, m.value);
      ins->run();
      ins->reset();
    }
  }
  if (!rec.summary.is_null() && !rec.summary.empty()) {
    if (!rec.summary.is_object()) throw Error("store: summary of run " + r.key + " is not an object");
    sqlite::Use ins(impl_->stmt("INSERT INTO summaries (run_key, name, value) VALUES (?1, ?2, ?3)"));
    for (auto it = rec.summary.begin(); it != rec.summary.end(); ++it) {
      if (!it.value().is_number())
        throw Error("store: summary value \"" + it.key() + "\" of run " + r.key + " is not a number");
      ins->bind(1, r.key).bind(2, it.key()).bind(3, it.value().get<double>());
      ins->run();
      ins->reset();
    }
  }
}

void Store::replace_run(const RunRecords& records) {
  sqlite::Transaction tx(impl_->db);
  write_run(records);
  tx.commit();
}

void Store::replace_runs(const std::vector<RunRecords>& records) {
  if (records.empty()) return;
  sqlite::Transaction tx(impl_->db);
  for (const RunRecords& r : records) write_run(r);
  tx.commit();
}

void Store::delete_run(const std::string& key) {
  sqlite::Use del(impl_->stmt("DELETE FROM runs WHERE key = ?1"));
  del->bind(1, key).run();
}

void Store::delete_logs(const std::vector<std::string>& log_paths) {
  if (log_paths.empty()) return;
  sqlite::Transaction tx(impl_->db);
  sqlite::Use del(impl_->stmt("DELETE FROM runs WHERE log_path = ?1"));
  for (const std::string& p : log_paths) {
    del->bind(1, p).run();
    del->reset();
  }
  tx.commit();
}

}  // namespace jenga::harness
