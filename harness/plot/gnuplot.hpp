// Running gnuplot as a child process (fork/exec with an argv vector, no shell) and quoting text
// for its scripts.
#pragma once

#include <string>
#include <vector>

namespace jenga::harness {

struct GnuplotResult {
  int exit_code = -1;     // -1 when killed by a signal or the time limit
  bool timed_out = false;
  std::string output;     // stdout and stderr together (warnings, errors)
};

// Runs `gnuplot <script>` in `workdir` (so the script names its data and outputs relatively),
// stdin from /dev/null, killing it after `timeout_s`. Error when it cannot be started.
GnuplotResult run_gnuplot(const std::string& gnuplot, const std::string& script, const std::string& workdir,
                          double timeout_s = 60);

// Full path of `program` found on PATH (or itself if it has a '/'), "" when not found.
std::string find_on_path(const std::string& program);

// A gnuplot string literal: "..." with backslash and quote escaped (the scripts turn enhanced
// text off, so _ and ^ print as themselves).
std::string gp_quote(const std::string& text);

}  // namespace jenga::harness
