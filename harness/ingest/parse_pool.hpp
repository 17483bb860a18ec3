// Parses log files on background threads, a bounded window ahead of the consumer, who takes
// the results in order. Two cores here: one parses while the caller writes SQLite.
#pragma once

#include "harness/ingest/ingest.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace jenga::harness {

struct ParseOutcome {
  std::optional<ParsedLog> parsed;  // unset when parse_log threw Error
  std::string error;
  int where_line = 0;
};

class ParsePool {
 public:
  ParsePool(const std::vector<std::string>& paths, const std::string& repo_root);
  ~ParsePool();  // stops and joins the workers (also when the consumer threw)
  ParsePool(const ParsePool&) = delete;
  ParsePool& operator=(const ParsePool&) = delete;

  // The outcome for paths[i]; call with i = 0, 1, 2, ... Rethrows what is not an Error.
  ParseOutcome take(std::size_t i);

 private:
  struct Slot {
    bool done = false;
    ParseOutcome outcome;
    std::exception_ptr unexpected;
  };
  void work();
  static ParseOutcome parse_one(const std::string& path, const std::string& repo_root, std::exception_ptr& unexpected);

  const std::vector<std::string>& paths_;
  std::string repo_root_;
  std::size_t window_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t next_ = 0;      // next index a worker claims
  std::size_t consumed_ = 0;  // indices below this were taken
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace jenga::harness
