#include "harness/run/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <ostream>

namespace jenga::harness {

namespace fs = std::filesystem;

Progress::Progress(int total, int slots, bool tty, std::ostream& os, std::string root)
    : total_(total), slots_(std::max(1, slots)), tty_(tty), os_(os), root_(std::move(root)) {}

std::string Progress::display_path(const std::string& path, const std::string& root) {
  if (root.empty()) return path;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec).lexically_normal();
  const fs::path base = fs::absolute(root, ec).lexically_normal();
  if (ec) return path;
  const fs::path rel = abs.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

std::string Progress::format_duration(double s) {
  if (!(s >= 0)) s = 0;
  if (s < 60) return fmt::format("{:.1f}s", s);
  const long long t = std::llround(s);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

std::string Progress::eta() const {
  if (executed_ == 0) return "";
  const int left = total_ - done_;
  const double mean = executed_s_ / executed_;
  return format_duration(mean * std::ceil(static_cast<double>(left) / slots_));
}

void Progress::line(const std::string& text) {
  if (tty_ && live_drawn_) os_ << "\r\033[K";
  os_ << text << '\n';
  live_drawn_ = false;
  if (tty_) redraw();
  os_.flush();
}

void Progress::redraw() {
  if (!tty_) return;
  std::string s = fmt::format("\r\033[K[{}/{}] running {}", done_, total_, running_);
  if (failed_) s += fmt::format(", {} failed", failed_);
  const std::string e = eta();
  if (!e.empty() && done_ < total_) s += ", ETA " + e;
  os_ << s;
  os_.flush();
  live_drawn_ = true;
}

void Progress::skipped(const PlannedRun& run, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (tty_)
    redraw();  // a resumed sweep may skip hundreds: the count says enough
  else
    line(fmt::format("[{}/{}] skipped ({}) {} {}", done_, total_, why, run.experiment, run.key));
}

void Progress::started(const PlannedRun&) {
  std::lock_guard<std::mutex> lock(mu_);
  ++running_;
  redraw();
}

void Progress::retrying(const PlannedRun& run, const std::string& status, int next_attempt) {
  std::lock_guard<std::mutex> lock(mu_);
  line(fmt::format("[{}/{}] {} {} {}: retrying (attempt {})", done_, total_, status, run.experiment, run.key,
                   next_attempt));
}

void Progress::finished(const PlannedRun& run, const RunOutcome& o) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  running_ = std::max(0, running_ - 1);
  ++executed_;
  executed_s_ += o.duration_s;
  const bool ok = o.status == "ok";
  if (!ok) ++failed_;
  std::string text = fmt::format("[{}/{}] {} {} {} {}", done_, total_, o.status, run.experiment, run.key,
                                 format_duration(o.duration_s));
  if (o.attempts > 1) text += fmt::format(" ({} attempts)", o.attempts);
  if (!ok && !o.message.empty()) text += " - " + o.message;
  if (!ok) text += " [" + display_path(o.log_path, root_) + "]";
  if (tty_ && ok)
    redraw();  // on a terminal only failures earn a line of their own
  else
    line(text);
}

void Progress::note(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  line(text);
}

void Progress::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && live_drawn_) {
    os_ << '\n';
    os_.flush();
    live_drawn_ = false;
  }
}

}  // namespace jenga::harness
