// One worker process, start to end: launched by Boost.Process from an argv vector (never a
// shell) with its own environment, in its own process group, with SIGKILL as its parent-death
// signal (a harness killed with -9 takes its children along); stdout/stderr teed line by line
// through an OutputTee; a time limit and a stop flag enforced by SIGTERM then SIGKILL to the
// whole group. Leftover group members are killed when the worker itself exits.
#pragma once

#include "harness/run/output_tee.hpp"

#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace jenga::harness {

struct ChildSpec {
  std::string exe;                          // made absolute if relative; not searched in PATH
  std::vector<std::string> args;            // argv[1..]
  std::map<std::string, std::string> env;   // the child's whole environment
  std::string cwd;                          // "" = the harness's
  double timeout_s = 0;                     // 0 = no limit
  double kill_grace_s = 5;                  // SIGTERM -> SIGKILL delay
};

struct ChildResult {
  bool launched = false;
  std::string launch_error;  // why the process could not be started (launched == false)
  int pid = 0;
  bool timed_out = false;    // the harness ended it for running past timeout_s
  bool interrupted = false;  // the harness ended it because `stop` was set
  int exit_code = 0;         // valid when signal == 0
  int signal = 0;            // terminating signal, 0 when it exited
  std::string end_status;    // from the worker's last `end` record ("" if none)
  std::string end_message;
  bool oom_text_seen = false;
  double duration_s = 0;     // launch to reap, wall clock
};

// Runs `spec` to completion; blocks. `stop` may be null. Never throws for the child's sake:
// a failed launch is reported in the result (LogSink write errors do propagate).
ChildResult run_child(const ChildSpec& spec, OutputTee& tee, const std::atomic<bool>* stop = nullptr);

// The harness's own environment as a map (the base of every child's).
std::map<std::string, std::string> current_environment();

// SIGKILL to the process group of every child being run right now. Async-signal-safe (for a
// second Ctrl-C); the children's run_child calls then see them die and return.
void kill_all_children_now();

}  // namespace jenga::harness
