// Store internals shared by store.cpp (open, migrate, write) and store_query.cpp (reads).
#pragma once

#include "harness/store/sqlite.hpp"
#include "harness/store/store.hpp"

#include <memory>
#include <string>
#include <unordered_map>

namespace jenga::harness {

struct Store::Impl {
  explicit Impl(const std::string& path) : db(path) {}

  // A prepared statement per distinct SQL text, prepared on first use.
  sqlite::Statement& stmt(const std::string& sql) {
    auto it = cache.find(sql);
    if (it == cache.end()) it = cache.emplace(sql, std::make_unique<sqlite::Statement>(db, sql)).first;
    return *it->second;
  }

  sqlite::Db db;  // declared first: outlives the statements
  std::unordered_map<std::string, std::unique_ptr<sqlite::Statement>> cache;
};

// Compact JSON text; invalid UTF-8 from a caller is replaced rather than thrown on.
inline std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace jenga::harness
