// Reading a log file whole, and naming it the way the index does (relative to the repo root).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace jenga::harness {

struct LogFile {
  std::string rel_path;  // repo_relative(path)
  std::unique_ptr<char[]> data;  // not a std::string: resizing one zero-fills megabytes first
  std::int64_t size = 0;   // bytes read
  std::int64_t mtime = 0;  // seconds since epoch, from the open file
  std::string_view text() const { return {data.get(), static_cast<std::size_t>(size)}; }
};

// Error (naming the file) when it cannot be opened or read.
LogFile read_log_file(const std::string& path, const std::string& repo_root);

// `path` relative to `repo_root` when inside it (lexically, after making both absolute),
// else its absolute form. Stable across working directories, so index entries match.
std::string repo_relative(const std::string& path, const std::string& repo_root);

}  // namespace jenga::harness
