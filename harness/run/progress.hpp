// Progress of a sweep on std::cerr (or any stream): on a terminal one live line redrawn with
// '\r' (done/total, running, failures, ETA) with failures printed above it; elsewhere one plain
// line per finished run, e.g. "[3/12] ok smoke 1a2b3c4d5e6f7a8b 1.2s". Thread-safe.
#pragma once

#include "harness/plan/plan.hpp"
#include "harness/run/scheduler.hpp"

#include <chrono>
#include <iosfwd>
#include <mutex>
#include <string>

namespace jenga::harness {

class Progress {
 public:
  // Log paths under `root` are shown relative to it.
  Progress(int total, int slots, bool tty, std::ostream& os, std::string root = {});

  void skipped(const PlannedRun& run, const std::string& why);  // counted as done at once
  void started(const PlannedRun& run);
  void retrying(const PlannedRun& run, const std::string& status, int next_attempt);
  void finished(const PlannedRun& run, const RunOutcome& outcome);
  void note(const std::string& text);  // a line of its own (warnings)
  void close();                        // ends the live line

  // "1.2s", "3m05s", "2h01m" (exposed for tests).
  static std::string format_duration(double seconds);
  // `path` relative to `root` when inside it, else unchanged.
  static std::string display_path(const std::string& path, const std::string& root);

 private:
  void redraw();               // live line (mu_ held)
  void line(const std::string& text);  // a permanent line (mu_ held)
  std::string eta() const;     // "" when unknown

  int total_, slots_;
  bool tty_;
  std::ostream& os_;
  std::string root_;
  std::mutex mu_;
  int done_ = 0, running_ = 0, failed_ = 0, executed_ = 0;
  double executed_s_ = 0;  // wall time of finished, executed runs
  bool live_drawn_ = false;
};

}  // namespace jenga::harness
