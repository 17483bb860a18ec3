// Append-only, line-at-a-time writer for one run log. Each line goes to the kernel in one
// write() on an O_APPEND descriptor, so a harness killed at any moment leaves whole lines
// behind (a consistent prefix) and nothing sits in a user-space buffer.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace jenga::harness {

class LogSink {
 public:
  // Opens (creating directories and file as needed) for appending; Error naming the path on
  // failure. If the file does not end in '\n' (a writer died mid-line), a newline is added
  // first so the next record starts on a line of its own.
  explicit LogSink(const std::string& path);
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  // Writes `line` plus '\n' (thread-safe). Error on a failed write.
  void write_line(std::string_view line);
  // Same, with `prefix` in front of `line` (one write()).
  void write_line(std::string_view prefix, std::string_view line);

  const std::string& path() const { return path_; }

 private:
  void write_all(const std::string& bytes);
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
};

// Current time as ISO-8601 UTC with seconds, e.g. "2025-03-01T12:34:56Z".
std::string iso8601_utc_now();

}  // namespace jenga::harness
