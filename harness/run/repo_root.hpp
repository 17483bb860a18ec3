// Finding the repository root a `jenga` command works on.
#pragma once

#include <string>

namespace jenga::harness {

// The nearest directory at or above `start` holding both experiments/ and configs/; if none,
// the source tree this harness was built from (JENGA_SOURCE_DIR), or "" if unknown.
std::string find_repo_root(const std::string& start);

// The source tree this harness was built from (compile-time), "" if unknown.
std::string build_source_dir();

}  // namespace jenga::harness
