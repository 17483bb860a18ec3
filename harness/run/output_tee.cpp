#include "harness/run/output_tee.hpp"

#include <jenga/protocol/record.hpp>

#include <algorithm>
#include <cctype>

namespace jenga::harness {

namespace proto = jenga::protocol;

namespace {

bool contains_nocase(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

// A record line claiming a harness-only event, even one the protocol would reject as
// incomplete: it must never be read back as the harness's own record.
bool claims_harness_event(std::string_view line, const proto::ParseResult& pr) {
  if (pr.record) return proto::is_harness_event(pr.record->event);
  if (!pr.is_record_line) return false;
  const std::size_t i = line.find('{');
  const proto::Json j = proto::Json::parse(line.substr(i), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  const auto ev = j.find("event");
  if (ev == j.end() || !ev->is_string()) return false;
  const auto e = proto::event_from_string(ev->get<std::string>());
  return e && proto::is_harness_event(*e);
}

}  // namespace

bool mentions_oom(std::string_view text) {
  // "CUDA error: out of memory" is covered by "out of memory".
  return contains_nocase(text, "out of memory") || contains_nocase(text, "OutOfMemoryError") ||
         contains_nocase(text, "std::bad_alloc");
}

void OutputTee::stdout_line(std::string_view line) {
  const proto::ParseResult pr = proto::parse_record(line);
  if (claims_harness_event(line, pr)) {
    ++spoofed_;
    log_.write_line(kSpoofedPrefix, line);
    return;
  }
  log_.write_line(line);
  if (pr.record) {
    if (pr.record->event == proto::Event::End) {
      const proto::Json& b = pr.record->body;
      end_status_ = b["status"].get<std::string>();
      const auto m = b.find("message");
      end_message_ = (m != b.end() && m->is_string()) ? m->get<std::string>() : std::string();
    }
    return;  // a well-formed record is data, not a complaint about memory
  }
  if (!oom_text_seen_ && mentions_oom(line)) oom_text_seen_ = true;
}

void OutputTee::stderr_line(std::string_view line) {
  log_.write_line(kStderrPrefix, line);
  if (!oom_text_seen_ && mentions_oom(line)) oom_text_seen_ = true;
}

void OutputTee::harness_note(std::string_view text) { log_.write_line(kHarnessPrefix, text); }

void LineSplitter::feed(const char* data, std::size_t n) {
  std::string_view in(data, n);
  while (!in.empty()) {
    const std::size_t nl = in.find('\n');
    const std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl);
    const std::size_t room = max_line_ > pending_.size() ? max_line_ - pending_.size() : 0;
    pending_.append(part.substr(0, std::min(room, part.size())));
    dropped_ += part.size() - std::min(room, part.size());
    if (nl == std::string_view::npos) break;
    emit(pending_);
    pending_.clear();
    dropped_ = 0;
    in.remove_prefix(nl + 1);
  }
}

void LineSplitter::finish() {
  if (!pending_.empty() || dropped_ > 0) emit(pending_);
  pending_.clear();
  dropped_ = 0;
}

void LineSplitter::emit(std::string_view line) {
  if (ch_ == Channel::Stdout)
    tee_.stdout_line(line);
  else
    tee_.stderr_line(line);
  if (dropped_ > 0) {
    const std::string note = "previous line cut at " + std::to_string(max_line_) + " bytes; " +
                             std::to_string(dropped_) + " bytes dropped";
    tee_.harness_note(note);
  }
}

}  // namespace jenga::harness
