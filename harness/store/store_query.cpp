// Store: reads. Every query is a cached prepared statement, reset after use.
#include "harness/common/error.hpp"
#include "harness/store/store.hpp"
#include "harness/store/store_impl.hpp"

namespace jenga::harness {

namespace {

const char* const kRunColumns =
    "key, experiment, profile, task, params, status, exit_code, signal, message, started_at, ended_at, "
    "duration_s, attempts, log_path, log_size, log_mtime, provenance";

// JSON columns are written by the store itself; a row that does not parse was edited by hand.
Json parse_column(const sqlite::Statement& st, int col, const std::string& what) {
  Json j = Json::parse(st.column_view(col), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error("store: stored " + what + " is not valid JSON");
  return j;
}

RunRow read_run(const sqlite::Statement& st) {
  RunRow r;
  r.key = st.column_text(0);
  r.experiment = st.column_text(1);
  r.profile = st.column_text(2);
  r.task = st.column_text(3);
  r.params = parse_column(st, 4, "params of run " + r.key);
  r.status = st.column_text(5);
  r.exit_code = st.column_optional_int(6);
  r.signal = st.column_optional_int(7);
  r.message = st.column_text(8);
  r.started_at = st.column_text(9);
  r.ended_at = st.column_text(10);
  r.duration_s = st.column_double(11);
  r.attempts = st.column_int(12);
  r.log_path = st.column_text(13);
  r.log_size = st.column_int64(14);
  r.log_mtime = st.column_int64(15);
  r.provenance = parse_column(st, 16, "provenance of run " + r.key);
  return r;
}

// WHERE clause for a filter, with parameters ?1.. in the order experiment, profile, status.
// Only the conditions in use appear, so SQLite can pick an index (and the cached statement
// text differs per combination).
struct SqlWhere {
  std::string sql;
  std::vector<std::string> args;
};

SqlWhere where_of(const RunFilter& f) {
  SqlWhere w;
  auto add = [&](const char* column, const std::string& value) {
    w.args.push_back(value);
    w.sql += (w.sql.empty() ? " WHERE " : " AND ") + std::string(column) + " = ?" + std::to_string(w.args.size());
  };
  if (!f.experiment.empty()) add("experiment", f.experiment);
  if (!f.profile.empty()) add("profile", f.profile);
  if (!f.status.empty()) add("status", f.status);
  if (f.not_ok) w.sql += (w.sql.empty() ? " WHERE " : " AND ") + std::string("status <> 'ok'");
  return w;
}

}  // namespace

std::optional<RunRow> Store::run(const std::string& key) const {
  sqlite::Use st(impl_->stmt(std::string("SELECT ") + kRunColumns + " FROM runs WHERE key = ?1"));
  st->bind(1, key);
  if (!st->step()) return std::nullopt;
  return read_run(*st);
}

std::vector<RunRow> Store::runs(const std::string& experiment) const {
  RunFilter f;
  f.experiment = experiment;
  return runs(f);
}

std::vector<RunRow> Store::runs(const RunFilter& filter) const {
  const SqlWhere w = where_of(filter);
  const std::string limit = filter.limit ? " LIMIT " + std::to_string(filter.limit) : std::string();
  sqlite::Use st(impl_->stmt(std::string("SELECT ") + kRunColumns + " FROM runs" + w.sql + " ORDER BY experiment, key" + limit));
  for (std::size_t i = 0; i < w.args.size(); ++i) st->bind(static_cast<int>(i + 1), w.args[i]);
  std::vector<RunRow> out;
  while (st->step()) out.push_back(read_run(*st));
  return out;
}

std::vector<StepRow> Store::steps(const std::string& key) const {
  sqlite::Use st(impl_->stmt("SELECT step, data FROM steps WHERE run_key = ?1 ORDER BY step"));
  st->bind(1, key);
  std::vector<StepRow> out;
  while (st->step()) {
    StepRow s;
    s.step = st->column_int64(0);
    s.json = st->column_text(1);
    s.data = parse_column(*st, 1, "step " + std::to_string(s.step) + " of run " + key);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<MetricRow> Store::metrics(const std::string& key) const {
  sqlite::Use st(impl_->stmt("SELECT name, value, unit, tags FROM metrics WHERE run_key = ?1 ORDER BY seq"));
  st->bind(1, key);
  std::vector<MetricRow> out;
  while (st->step()) {
    MetricRow m;
    m.name = st->column_text(0);
    m.is_null = st->is_null(1);
    m.value = m.is_null ? 0.0 : st->column_double(1);
    m.unit = st->column_text(2);
    m.tags = parse_column(*st, 3, "tags of metric " + m.name + " of run " + key);
    out.push_back(std::move(m));
  }
  return out;
}

Json Store::summary(const std::string& key) const {
  sqlite::Use st(impl_->stmt("SELECT name, value FROM summaries WHERE run_key = ?1 ORDER BY name"));
  st->bind(1, key);
  Json out = Json::object();
  while (st->step()) out[st->column_text(0)] = st->column_double(1);
  return out;
}

std::vector<std::tuple<std::string, std::string, int>> Store::status_counts(const RunFilter& filter) const {
  const SqlWhere w = where_of(filter);
  sqlite::Use st(impl_->stmt("SELECT experiment, status, count(*) FROM runs" + w.sql +
                             " GROUP BY experiment, status ORDER BY experiment, status"));
  for (std::size_t i = 0; i < w.args.size(); ++i) st->bind(static_cast<int>(i + 1), w.args[i]);
  std::vector<std::tuple<std::string, std::string, int>> out;
  while (st->step()) out.emplace_back(st->column_text(0), st->column_text(1), st->column_int(2));
  return out;
}

std::vector<std::tuple<std::string, std::string, double>> Store::summary_values(const std::string& experiment) const {
  const std::string sql = experiment.empty()
                              ? "SELECT run_key, name, value FROM summaries ORDER BY run_key, name"
                              : "SELECT s.run_key, s.name, s.value FROM summaries s JOIN runs r ON r.key = s.run_key "
                                "WHERE r.experiment = ?1 ORDER BY s.run_key, s.name";
  sqlite::Use st(impl_->stmt(sql));
  if (!experiment.empty()) st->bind(1, experiment);
  std::vector<std::tuple<std::string, std::string, double>> out;
  while (st->step()) out.emplace_back(st->column_text(0), st->column_text(1), st->column_double(2));
  return out;
}

std::vector<std::pair<std::string, std::string>> Store::log_owners() const {
  sqlite::Use st(impl_->stmt("SELECT log_path, key FROM runs ORDER BY log_path, key"));
  std::vector<std::pair<std::string, std::string>> out;
  while (st->step()) out.emplace_back(st->column_text(0), st->column_text(1));
  return out;
}

std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> Store::log_stamps() const {
  sqlite::Use st(impl_->stmt("SELECT log_path, log_size, log_mtime FROM runs WHERE log_path <> '' ORDER BY log_path"));
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> out;
  while (st->step()) out.emplace_back(st->column_text(0), st->column_int64(1), st->column_int64(2));
  return out;
}

}  // namespace jenga::harness
