// What happens to each line a worker prints: it is teed into the run log (records verbatim,
// stderr and spoofed harness records marked as text) while the harness notes the worker's
// `end` status and any out-of-memory message for classify_exit.
#pragma once

#include "harness/run/log_sink.hpp"

#include <string>
#include <string_view>

namespace jenga::harness {

// Prefixes that turn a line into free text in the log.
inline constexpr std::string_view kStderrPrefix = "[stderr] ";
inline constexpr std::string_view kSpoofedPrefix = "[spoofed] ";
inline constexpr std::string_view kHarnessPrefix = "[harness] ";

// True when the text names an out-of-memory condition ("out of memory", "OutOfMemoryError",
// "std::bad_alloc", "CUDA error: out of memory"; case-insensitive).
bool mentions_oom(std::string_view text);

class OutputTee {
 public:
  explicit OutputTee(LogSink& log) : log_(log) {}

  // One complete line (without its '\n') from the worker's stdout / stderr.
  void stdout_line(std::string_view line);
  void stderr_line(std::string_view line);
  // A remark of the harness itself, kept in the log as text ("[harness] ...").
  void harness_note(std::string_view text);

  // Status and message of the last valid `end` record seen ("" when none).
  const std::string& end_status() const { return end_status_; }
  const std::string& end_message() const { return end_message_; }
  bool oom_text_seen() const { return oom_text_seen_; }
  int spoofed_lines() const { return spoofed_; }

 private:
  LogSink& log_;
  std::string end_status_, end_message_;
  bool oom_text_seen_ = false;
  int spoofed_ = 0;
};

// Splits a byte stream into lines for one OutputTee channel. A line longer than `max_line`
// bytes is cut there (the rest up to its newline is dropped, a note says how much), so a
// runaway print cannot exhaust memory; ingest never parses such lines anyway.
class LineSplitter {
 public:
  enum class Channel { Stdout, Stderr };
  LineSplitter(OutputTee& tee, Channel ch, std::size_t max_line = kDefaultMaxLine)
      : tee_(tee), ch_(ch), max_line_(max_line) {}

  void feed(const char* data, std::size_t n);
  // End of stream: a final line without '\n' is emitted as a line.
  void finish();

  static constexpr std::size_t kDefaultMaxLine = 32u << 20;

 private:
  void emit(std::string_view line);
  OutputTee& tee_;
  Channel ch_;
  std::size_t max_line_;
  std::string pending_;
  std::size_t dropped_ = 0;  // bytes of the current overlong line not kept
};

}  // namespace jenga::harness
