#include "harness/store/sqlite.hpp"

#include "harness/common/error.hpp"

#include <sqlite3.h>

#include <cmath>
#include <limits>

namespace jenga::harness::sqlite {

namespace {

// Long SQL (schema scripts) would drown the message; the start identifies the statement.
std::string clip(std::string_view sql) {
  constexpr std::size_t kMax = 240;
  std::string s(sql.substr(0, kMax));
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  if (sql.size() > kMax) s += "...";
  return s;
}

int checked_len(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error("sqlite: text of " + std::to_string(s.size()) + " bytes is too large");
  return static_cast<int>(s.size());
}

}  // namespace

// ---- Db ---------------------------------------------------------------------------------

Db::Db(const std::string& path) : path_(path) {
  // NOMUTEX: a Db is used by one thread at a time, so SQLite's per-call locking is waste.
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    // The handle exists even on failure (unless out of memory) and carries the message.
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error("sqlite: cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  // close_v2 defers until the last statement is finalized, so member order cannot leak.
  if (db_) sqlite3_close_v2(db_);
}

std::string Db::message(int rc, std::string_view what, std::string_view sql) const {
  std::string msg = "sqlite: " + std::string(what) + ": ";
  msg += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  msg += " (db " + path_;
  if (!sql.empty()) msg += "; sql: " + clip(sql);
  msg += ")";
  return msg;
}

void Db::fail(int rc, std::string_view what, std::string_view sql) const { throw Error(message(rc, what, sql)); }

void Db::exec(std::string_view sql) {
  const char* p = sql.data();
  const char* const end = sql.data() + sql.size();
  while (p < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, p, checked_len(std::string_view(p, end - p)), &stmt, &tail);
    if (rc != SQLITE_OK) fail(rc, "prepare failed", std::string_view(p, end - p));
    if (!stmt) break;  // only whitespace or comments left
    int s;
    while ((s = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (s != SQLITE_DONE) {
      // The message is read before finalize, which may replace it.
      const std::string msg = message(s, "step failed", sqlite3_sql(stmt));
      sqlite3_finalize(stmt);
      throw Error(msg);
    }
    const int frc = sqlite3_finalize(stmt);
    if (frc != SQLITE_OK) fail(frc, "finalize failed", std::string_view(p, tail - p));
    p = tail;
  }
}

std::optional<std::string> Db::query_text(std::string_view sql) {
  Statement st(*this, sql);
  if (!st.step()) return std::nullopt;
  std::string v = st.column_text(0);
  while (st.step()) {
  }
  return v;
}

std::int64_t Db::query_int(std::string_view sql) {
  Statement st(*this, sql);
  if (!st.step()) throw Error("sqlite: query returned no row (db " + path_ + "; sql: " + clip(sql) + ")");
  const std::int64_t v = st.column_int64(0);
  while (st.step()) {
  }
  return v;
}

// ---- Statement --------------------------------------------------------------------------

Statement::Statement(Db& db, std::string_view sql) : db_(db), sql_(sql) {
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db_.handle(), sql_.c_str(), checked_len(sql_), &stmt_, &tail);
  if (rc != SQLITE_OK) db_.fail(rc, "prepare failed", sql_);
  if (!stmt_) throw Error("sqlite: empty statement (db " + db_.path() + "; sql: " + clip(sql_) + ")");
  for (; tail && *tail; ++tail) {
    if (*tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != '\r' && *tail != ';') {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      throw Error("sqlite: more than one statement in a prepared statement (db " + db_.path() + "; sql: " + clip(sql_) + ")");
    }
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, std::int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "bind #" + std::to_string(i) + " failed", sql_);
  return *this;
}

Statement& Statement::bind(int i, double v) {
  const int rc = std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "bind #" + std::to_string(i) + " failed", sql_);
  return *this;
}

Statement& Statement::bind(int i, std::string_view v, bool copy) {
  // A null data pointer would bind NULL; an empty string must stay ''.
  const char* data = v.data() ? v.data() : "";
  const int rc = sqlite3_bind_text(stmt_, i, data, checked_len(v), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
  if (rc != SQLITE_OK) db_.fail(rc, "bind #" + std::to_string(i) + " failed", sql_);
  return *this;
}

Statement& Statement::bind_null(int i) {
  const int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) db_.fail(rc, "bind #" + std::to_string(i) + " failed", sql_);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Leave the statement reusable after an error (e.g. a constraint failure).
  const std::string msg = db_.message(rc, "step failed", sql_);
  sqlite3_reset(stmt_);
  throw Error(msg);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  // sqlite3_reset repeats the last step's error, which step() already reported.
  sqlite3_reset(stmt_);
  const int rc = sqlite3_clear_bindings(stmt_);
  if (rc != SQLITE_OK) db_.fail(rc, "clear bindings failed", sql_);
}

void Statement::reset_quietly() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Statement::column_int64(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::column_double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string_view Statement::column_view(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) {
    // NULL column, or out of memory while converting: tell the two apart.
    if (sqlite3_errcode(db_.handle()) == SQLITE_NOMEM) db_.fail(SQLITE_NOMEM, "column text failed", sql_);
    return {};
  }
  return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string Statement::column_text(int col) const { return std::string(column_view(col)); }

std::optional<int> Statement::column_optional_int(int col) const {
  if (is_null(col)) return std::nullopt;
  return column_int(col);
}

// ---- Transaction ------------------------------------------------------------------------

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  // A failed statement may already have ended the transaction; only roll back an open one.
  if (!done_ && !sqlite3_get_autocommit(db_.handle())) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace jenga::harness::sqlite
