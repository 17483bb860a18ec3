// Runs planned runs as child processes (Boost.Process, argv vector, never a shell), one per
// slot, tees their output into logs/<experiment>/<run-key>.jsonl, classifies how each ended,
// and indexes each finished log into the Store.
// Build note: on Boost >= 1.80 (GPU machine: headers only) BOOST_PROCESS_USE_STD_FS=1 is defined,
// so code here passes std::string paths/argv to Boost.Process and never names boost::filesystem.
#pragma once

#include "harness/plan/plan.hpp"
#include "harness/spec/profile.hpp"
#include "harness/store/store.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace jenga::harness {

struct SchedulerOptions {
  std::string worker;            // path of the worker program (jenga-worker, or a fake in tests)
  std::vector<std::string> worker_prefix_args;  // argv inserted before the task (tests)
  std::string logs_dir;          // logs/
  std::string repo_root;         // for relative log paths and model config resolution
  int retries = 0;               // re-run `crashed` runs up to this many extra times
  bool force = false;            // re-run runs whose log already ends ok
  double timeout_s = 0;          // 0 = profile's timeout
  double kill_grace_s = 5;       // SIGTERM -> SIGKILL delay for timeouts and Ctrl-C
  std::map<std::string, std::string> extra_env;  // added to every child's environment
  bool progress_tty = false;     // live progress line (else plain lines)
};

struct RunOutcome {
  std::string key;
  std::string status;            // ok | oom | diverged | error | timeout | crashed | killed | skipped
  int attempts = 0;
  double duration_s = 0;         // wall time of the last attempt
  std::string log_path;
  std::string message;           // why it did not end ok (exit record's message), or ""
};

// How the child's end is classified, given what the harness saw (exposed for unit tests).
struct ExitObservation {
  bool timed_out = false;
  bool interrupted = false;      // harness was asked to stop (Ctrl-C / SIGTERM)
  int exit_code = 0;             // valid when signal == 0
  int signal = 0;                // terminating signal, 0 if it exited
  std::string end_status;        // status from the worker's end record, "" if none
  bool oom_text_seen = false;    // stderr/stdout mentioned an out-of-memory condition
};
std::string classify_exit(const ExitObservation& obs);

// Runs every run of `runs` (skipping those whose log ends ok unless opt.force), `profile`
// deciding slots (gpus x slots_per_gpu, at least 1), CUDA_VISIBLE_DEVICES per slot, memory cap
// (JENGA_MEMORY_CAP_GIB) and timeout. Returns one outcome per run, in plan order. Stops early
// (remaining runs `skipped`, running ones `killed`) when request_stop() is called.
std::vector<RunOutcome> run_all(const std::vector<PlannedRun>& runs, const Profile& profile,
                                Store* store, const SchedulerOptions& opt);

// Asks a running run_all to stop (async-signal-safe: sets a flag). A request made before
// run_all starts applies to it; the flag is cleared when run_all returns.
void request_stop();
bool stop_requested();

}  // namespace jenga::harness
