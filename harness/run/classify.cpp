// classify_exit: the harness's verdict on how a run ended (ARCHITECTURE.md, record format).
#include "harness/run/scheduler.hpp"

namespace jenga::harness {

std::string classify_exit(const ExitObservation& obs) {
  // What the harness did to the process outranks what the process said.
  if (obs.timed_out) return "timeout";
  if (obs.interrupted) return "killed";
  // A signal we did not send: a crash, unless the worker was out of memory (the kernel's OOM
  // killer, or an allocator abort after a CUDA OOM message).
  if (obs.signal != 0) return (obs.oom_text_seen || obs.end_status == "oom") ? "oom" : "crashed";
  // Exited without saying how it went: never silently ok.
  if (obs.end_status.empty()) return obs.oom_text_seen ? "oom" : "crashed";
  // Said ok but failed on the way out (e.g. an exception in teardown).
  if (obs.end_status == "ok" && obs.exit_code != 0) return "error";
  return obs.end_status;
}

}  // namespace jenga::harness
