// The worker -> harness record format (ARCHITECTURE.md, "The record format").
// A line a worker prints that starts with '{' is one record; anything else is free text kept
// in the log. Every record carries "event"; the five events and their required fields are
// checked by parse_record(), which never throws: a malformed line yields an error string.
// Two more events are written by the harness itself around each attempt in a log file:
// `run` (experiment, profile, run key, params, argv, attempt) and `exit` (final status, exit
// code or signal, duration). A worker line claiming either is stored as text, not trusted.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jenga::protocol {

using Json = nlohmann::json;

// Version of the record format; written into every start record as "record_version".
inline constexpr int kRecordVersion = 1;

enum class Event { Start, Step, Metric, Summary, End, Run, Exit };

// True for the events only the harness may write.
inline bool is_harness_event(Event e) { return e == Event::Run || e == Event::Exit; }

// Final status of a run. The worker reports the first four in its `end` record; the harness
// assigns the others from what it observed of the process.
enum class Status { Ok, Oom, Diverged, Error, Timeout, Crashed, Killed };

inline const char* to_string(Event e) {
  switch (e) {
    case Event::Start: return "start";
    case Event::Step: return "step";
    case Event::Metric: return "metric";
    case Event::Summary: return "summary";
    case Event::End: return "end";
    case Event::Run: return "run";
    case Event::Exit: return "exit";
  }
  return "?";
}

inline const char* to_string(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::Oom: return "oom";
    case Status::Diverged: return "diverged";
    case Status::Error: return "error";
    case Status::Timeout: return "timeout";
    case Status::Crashed: return "crashed";
    case Status::Killed: return "killed";
  }
  return "?";
}

inline std::optional<Event> event_from_string(std::string_view s) {
  if (s == "start") return Event::Start;
  if (s == "step") return Event::Step;
  if (s == "metric") return Event::Metric;
  if (s == "summary") return Event::Summary;
  if (s == "end") return Event::End;
  if (s == "run") return Event::Run;
  if (s == "exit") return Event::Exit;
  return std::nullopt;
}

inline std::optional<Status> status_from_string(std::string_view s) {
  if (s == "ok") return Status::Ok;
  if (s == "oom") return Status::Oom;
  if (s == "diverged") return Status::Diverged;
  if (s == "error") return Status::Error;
  if (s == "timeout") return Status::Timeout;
  if (s == "crashed") return Status::Crashed;
  if (s == "killed") return Status::Killed;
  return std::nullopt;
}

// ---- builders (worker side) -------------------------------------------------------------

// start: what runs and where. `provenance` holds commit, versions, GPU name/memory, driver, host.
inline Json make_start(const std::string& task, const Json& params, const Json& provenance) {
  return Json{{"event", "start"}, {"record_version", kRecordVersion}, {"task", task},
              {"params", params}, {"provenance", provenance}};
}

// step: one training/eval step. `phase_ms` e.g. {"forward":..,"backward":..,"optimizer":..};
// `mem_mib` e.g. {"allocated":..,"peak_allocated":..,"reserved":..,"peak_reserved":..};
// `extra` merges further fields (loss, kept_fraction, lr, ...).
inline Json make_step(std::int64_t step, const Json& phase_ms, const Json& mem_mib,
                      const Json& extra = Json::object()) {
  Json j{{"event", "step"}, {"step", step}, {"phase_ms", phase_ms}, {"mem_mib", mem_mib}};
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

// metric: one named value with unit; `tags` distinguish repeated metrics (e.g. {"length":4096}).
inline Json make_metric(const std::string& name, double value, const std::string& unit,
                        const Json& tags = Json::object()) {
  return Json{{"event", "metric"}, {"name", name}, {"value", value}, {"unit", unit}, {"tags", tags}};
}

// summary: the run's final figures, flat name -> number.
inline Json make_summary(const Json& values) { return Json{{"event", "summary"}, {"values", values}}; }

inline Json make_end(Status status, const std::string& message = {}) {
  Json j{{"event", "end"}, {"status", to_string(status)}};
  if (!message.empty()) j["message"] = message;
  return j;
}

// ---- harness-written records ------------------------------------------------------------

inline Json make_run(const std::string& experiment, const std::string& profile, const std::string& run_key,
                     const std::string& task, const Json& params, const Json& argv, int attempt,
                     const std::string& started_at) {
  return Json{{"event", "run"}, {"record_version", kRecordVersion}, {"experiment", experiment},
              {"profile", profile}, {"run_key", run_key}, {"task", task}, {"params", params},
              {"argv", argv}, {"attempt", attempt}, {"started_at", started_at}};
}

// `exit_code` or `signal` (one is null), wall time, and the harness's classification.
inline Json make_exit(Status status, const Json& exit_code, const Json& signal, double duration_s,
                      const std::string& ended_at, const std::string& message = {}) {
  Json j{{"event", "exit"}, {"status", to_string(status)}, {"exit_code", exit_code}, {"signal", signal},
         {"duration_s", duration_s}, {"ended_at", ended_at}};
  if (!message.empty()) j["message"] = message;
  return j;
}

// ---- parsing (harness side) -------------------------------------------------------------

struct Record {
  Event event;
  Json body;  // the whole object, validated for its event's required fields
};

struct ParseResult {
  std::optional<Record> record;  // set when the line is a valid record
  bool is_record_line = false;   // the line starts with '{' (so it was meant as a record)
  std::string error;             // why a record line was rejected
};

namespace detail {
inline bool is_number(const Json& j, const char* key) { return j.contains(key) && j[key].is_number(); }
inline bool is_string(const Json& j, const char* key) { return j.contains(key) && j[key].is_string(); }
inline bool is_object(const Json& j, const char* key) { return j.contains(key) && j[key].is_object(); }
}  // namespace detail

// Parses one log line. Leading spaces are ignored; a line not starting with '{' is free text.
inline ParseResult parse_record(std::string_view line) {
  ParseResult r;
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size() || line[i] != '{') return r;
  r.is_record_line = true;
  Json j = Json::parse(line.substr(i), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) { r.error = "not valid JSON"; return r; }
  if (!j.is_object()) { r.error = "not a JSON object"; return r; }
  if (!detail::is_string(j, "event")) { r.error = "missing string field \"event\""; return r; }
  auto ev = event_from_string(j["event"].get<std::string>());
  if (!ev) { r.error = "unknown event \"" + j["event"].get<std::string>() + "\""; return r; }
  using namespace detail;
  switch (*ev) {
    case Event::Start:
      if (!is_string(j, "task")) { r.error = "start: missing string \"task\""; return r; }
      if (!is_object(j, "params")) { r.error = "start: missing object \"params\""; return r; }
      if (j.contains("provenance") && !j["provenance"].is_object()) { r.error = "start: \"provenance\" must be an object"; return r; }
      break;
    case Event::Step:
      if (!j.contains("step") || !j["step"].is_number_integer()) { r.error = "step: missing integer \"step\""; return r; }
      if (j.contains("phase_ms") && !j["phase_ms"].is_object()) { r.error = "step: \"phase_ms\" must be an object"; return r; }
      if (j.contains("mem_mib") && !j["mem_mib"].is_object()) { r.error = "step: \"mem_mib\" must be an object"; return r; }
      break;
    case Event::Metric:
      if (!is_string(j, "name")) { r.error = "metric: missing string \"name\""; return r; }
      if (!is_number(j, "value") && !(j.contains("value") && j["value"].is_null())) { r.error = "metric: \"value\" must be a number or null"; return r; }
      if (j.contains("tags") && !j["tags"].is_object()) { r.error = "metric: \"tags\" must be an object"; return r; }
      break;
    case Event::Summary:
      if (!is_object(j, "values")) { r.error = "summary: missing object \"values\""; return r; }
      break;
    case Event::End:
    case Event::Exit: {
      const char* ev_name = to_string(*ev);
      if (!is_string(j, "status")) { r.error = std::string(ev_name) + ": missing string \"status\""; return r; }
      if (!status_from_string(j["status"].get<std::string>())) { r.error = std::string(ev_name) + ": unknown status \"" + j["status"].get<std::string>() + "\""; return r; }
      break;
    }
    case Event::Run:
      if (!is_string(j, "experiment") || !is_string(j, "profile") || !is_string(j, "run_key")) { r.error = "run: missing string \"experiment\", \"profile\" or \"run_key\""; return r; }
      if (!is_object(j, "params")) { r.error = "run: missing object \"params\""; return r; }
      break;
  }
  r.record = Record{*ev, std::move(j)};
  return r;
}

}  // namespace jenga::protocol
