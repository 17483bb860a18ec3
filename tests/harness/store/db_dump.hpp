// Every row of every table of a store as text, ordered: compares two indexes in full.
#pragma once

#include "harness/store/sqlite.hpp"
#include "harness/store/store.hpp"

#include <sqlite3.h>

#include <cstdio>
#include <string>

namespace jenga::harness::test {

inline std::string dump_table(Store& store, const std::string& table, const std::string& order) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT * FROM " + table + " ORDER BY " + order;
  if (sqlite3_prepare_v2(store.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return "prepare failed: " + sql;
  std::string out = table + ":\n";
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      if (c) out += " | ";
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_NULL: out += "NULL"; break;
        case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(st, c)); break;
        case SQLITE_FLOAT: {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, c));
          out += buf;
          break;
        }
        default: out += reinterpret_cast<const char*>(sqlite3_column_text(st, c)); break;
      }
    }
    out += "\n";
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) out += "step failed\n";
  return out;
}

inline std::string dump_store(Store& store) {
  return dump_table(store, "runs", "key") + dump_table(store, "steps", "run_key, step") +
         dump_table(store, "metrics", "run_key, seq") + dump_table(store, "summaries", "run_key, name") +
         dump_table(store, "schema_version", "version");
}

inline long count_rows(Store& store, const std::string& table) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT count(*) FROM " + table;
  if (sqlite3_prepare_v2(store.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return -1;
  long n = sqlite3_step(st) == SQLITE_ROW ? static_cast<long>(sqlite3_column_int64(st, 0)) : -1;
  sqlite3_finalize(st);
  return n;
}

}  // namespace jenga::harness::test
