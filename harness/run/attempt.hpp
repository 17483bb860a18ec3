// One attempt of one run, as it appears in the run's log: a `run` record, the worker's teed
// output, an `exit` record with the harness's classification. Appends to the log file.
#pragma once

#include "harness/plan/plan.hpp"
#include "harness/run/scheduler.hpp"

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace jenga::harness {

struct AttemptSetup {
  std::string log_path;
  std::string exe;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string cwd;
  double timeout_s = 0;
  double kill_grace_s = 5;
  int attempt = 1;          // 1-based, counting earlier attempts in the same log
  std::string setup_error;  // non-empty: the run cannot start (e.g. unknown model); logged as error
};

struct AttemptResult {
  std::string status;   // classify_exit, or "error" when the worker could not be started
  double duration_s = 0;
  std::string message;  // what the exit record says
};

// Runs the attempt to its end (blocking). Throws Error only when the log cannot be written.
AttemptResult run_attempt(const PlannedRun& run, const AttemptSetup& setup, const std::atomic<bool>* stop);

// "SIGSEGV" etc. for common signals, else "signal N".
std::string signal_name(int sig);

}  // namespace jenga::harness
