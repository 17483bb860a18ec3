// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Every return code is checked; failures throw Error naming the database path, the SQL and
// sqlite3_errmsg. Not thread-safe: one Db per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace jenga::harness::sqlite {

class Db {
 public:
  // Opens read-write, creating the file if absent. Error when it cannot be opened.
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs every statement of `sql` (prepared one by one), discarding result rows.
  void exec(std::string_view sql);
  // Runs a statement returning one text value (e.g. "PRAGMA journal_mode=WAL"); nullopt if no row.
  std::optional<std::string> query_text(std::string_view sql);
  std::int64_t query_int(std::string_view sql);  // first column of the first row; Error if no row

  // The Error text for a failed call: "sqlite: <what>: <errmsg> (db <path>; sql: <sql>)".
  std::string message(int rc, std::string_view what, std::string_view sql = {}) const;
  [[noreturn]] void fail(int rc, std::string_view what, std::string_view sql = {}) const;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind by 1-based index. Text is copied only when `copy` (default: caller keeps it alive
  // until the next step()/reset()).
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, double v);  // NaN is stored as NULL (SQLite's own rule)
  Statement& bind(int i, std::string_view v, bool copy = false);
  Statement& bind(int i, const std::string& v, bool copy = false) { return bind(i, std::string_view(v), copy); }
  Statement& bind(int i, const char* v, bool copy = false) { return bind(i, std::string_view(v), copy); }
  Statement& bind_null(int i);
  Statement& bind(int i, const std::optional<int>& v) { return v ? bind(i, *v) : bind_null(i); }

  // True while a row is available, false when done; Error on failure.
  bool step();
  void run();  // step() to completion, expecting no rows
  // Ready for reuse: reset and clear bindings.
  void reset();
  // reset() for destructors: sqlite3_reset only repeats the last step's code, already checked.
  void reset_quietly() noexcept;

  bool is_null(int col) const;
  std::int64_t column_int64(int col) const;
  int column_int(int col) const { return static_cast<int>(column_int64(col)); }
  double column_double(int col) const;
  std::string column_text(int col) const;        // "" for NULL
  std::string_view column_view(int col) const;   // valid until the next step()/reset()
  std::optional<int> column_optional_int(int col) const;

  const std::string& sql() const { return sql_; }

 private:
  Db& db_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

// Borrows a (cached) statement and resets it when done, so that no statement stays active and
// pins a read snapshot of the WAL.
class Use {
 public:
  explicit Use(Statement& s) : s_(s) {}
  ~Use() { s_.reset_quietly(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Statement* operator->() { return &s_; }
  Statement& operator*() { return s_; }

 private:
  Statement& s_;
};

}  // namespace jenga::harness::sqlite
