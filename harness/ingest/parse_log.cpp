// parse_log: one log file -> RunRecords of its last attempt, plus the problems met on the way.
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "harness/ingest/log_file.hpp"
#include "harness/ingest/step_scan.hpp"

#include <jenga/protocol/record.hpp>

#include <algorithm>

namespace jenga::harness {

namespace {

namespace proto = jenga::protocol;

// A longer line is never parsed (it would only be a runaway print); nesting deeper than this
// is refused before nlohmann's recursive dump/compare could exhaust the stack.
constexpr std::size_t kMaxLine = 16u << 20;
constexpr int kMaxDepth = 256;

// What the lines of the current attempt have said so far.
class AttemptState {
 public:
  AttemptState(std::string file, std::vector<LogProblem>& problems) : file_(std::move(file)), problems_(problems) {}

  void problem(int line, std::string what) { problems_.push_back({file_, line, std::move(what)}); }

  void on_run(const Json& j, int line) {
    ++runs_seen_;
    rec_ = RunRecords{};
    have_end_ = have_exit_ = false;
    end_status_.clear();
    end_message_.clear();
    RunRow& r = rec_.run;
    r.key = j["run_key"].get<std::string>();
    r.experiment = j["experiment"].get<std::string>();
    r.profile = j["profile"].get<std::string>();
    r.params = j["params"];
    r.task = opt_string(j, "task", line);
    r.started_at = opt_string(j, "started_at", line);
  }

  void on_start(const Json& j, int line) {
    rec_.run.task = j["task"].get<std::string>();
    if (const auto it = j.find("provenance"); it != j.end()) rec_.run.provenance.update(*it);
    if (const auto it = j.find("record_version"); it != j.end() && it->is_number() &&
                                                  it->get<double>() > proto::kRecordVersion)
      problem(line, "record_version " + it->dump() + " is newer than this harness reads (" +
                        std::to_string(proto::kRecordVersion) + ")");
  }

  void on_step(std::int64_t step, std::string data) {
    StepRow s;
    s.step = step;
    s.json = std::move(data);
    rec_.steps.push_back(std::move(s));
  }

  void on_metric(const Json& j, int line) {
    MetricRow m;
    m.name = j["name"].get<std::string>();
    const Json& v = j["value"];
    m.is_null = v.is_null();
    m.value = m.is_null ? 0.0 : v.get<double>();
    m.unit = opt_string(j, "unit", line);
    if (const auto it = j.find("tags"); it != j.end()) m.tags = *it;
    rec_.metrics.push_back(std::move(m));
  }

  void on_summary(const Json& j, int line) {
    const Json& values = j["values"];
    for (auto it = values.begin(); it != values.end(); ++it) {
      if (it.value().is_number())
        rec_.summary[it.key()] = it.value();
      else if (it.value().is_null())
        continue;  // declared missing (e.g. memory of a CPU run): stays absent, shown as missing
      else
        problem(line, "summary value \"" + it.key() + "\" is not a number; ignored");
    }
  }

  void on_end(const Json& j, int line) {
    have_end_ = true;
    end_status_ = j["status"].get<std::string>();
    end_message_ = opt_string(j, "message", line);
  }

  void on_exit(const Json& j, int line) {
    have_exit_ = true;
    RunRow& r = rec_.run;
    r.status = j["status"].get<std::string>();
    r.message = opt_string(j, "message", line);
    r.exit_code = opt_int(j, "exit_code", line);
    r.signal = opt_int(j, "signal", line);
    r.ended_at = opt_string(j, "ended_at", line);
    r.duration_s = 0;
    if (const auto it = j.find("duration_s"); it != j.end() && !it->is_null()) {
      if (it->is_number())
        r.duration_s = it->get<double>();
      else
        problem(line, "exit: \"duration_s\" is not a number");
    }
  }

  int runs_seen() const { return runs_seen_; }

  // The last attempt, its status settled: exit wins over end; neither means the process
  // vanished without a word, which is a crash.
  RunRecords finish() {
    RunRow& r = rec_.run;
    if (have_exit_) {
      if (r.message.empty()) r.message = end_message_;
    } else if (have_end_) {
      r.status = end_status_;
      r.message = end_message_;
    } else {
      r.status = proto::to_string(proto::Status::Crashed);
      r.message = "log ends without an end record";
    }
    r.attempts = runs_seen_;
    dedupe_steps(rec_.steps);
    return std::move(rec_);
  }

 private:
  // A later record of the same step index replaces the earlier (steps usually arrive sorted).
  static void dedupe_steps(std::vector<StepRow>& steps) {
    const bool sorted = std::adjacent_find(steps.begin(), steps.end(), [](const StepRow& a, const StepRow& b) {
                          return a.step >= b.step;
                        }) == steps.end();
    if (sorted) return;
    std::stable_sort(steps.begin(), steps.end(), [](const StepRow& a, const StepRow& b) { return a.step < b.step; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (i + 1 < steps.size() && steps[i + 1].step == steps[i].step) continue;  // a later one follows
      if (out != i) steps[out] = std::move(steps[i]);
      ++out;
    }
    steps.resize(out);
  }

  std::string opt_string(const Json& j, const char* key, int line) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    problem(line, std::string(j["event"].get<std::string>()) + ": \"" + key + "\" is not a string");
    return {};
  }

  std::optional<int> opt_int(const Json& j, const char* key, int line) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) {
      const auto v = it->get<std::int64_t>();
      if (v >= INT32_MIN && v <= INT32_MAX && !(it->is_number_unsigned() && it->get<std::uint64_t>() > INT32_MAX))
        return static_cast<int>(v);
    }
    problem(line, std::string(j["event"].get<std::string>()) + ": \"" + key + "\" is not a 32-bit integer");
    return std::nullopt;
  }

  std::string file_;
  std::vector<LogProblem>& problems_;
  RunRecords rec_;
  int runs_seen_ = 0;
  bool have_end_ = false, have_exit_ = false;
  std::string end_status_, end_message_;
};

}  // namespace

ParsedLog parse_log(const std::string& path, const std::string& repo_root) {
  const LogFile file = read_log_file(path, repo_root);
  ParsedLog out;
  AttemptState state(file.rel_path, out.problems);
  int orphan_line = 0, orphans = 0;  // records before the first `run` record
  ScannedStep scanned;

  const std::string_view text = file.text();
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;

    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size() || line[i] != '{') continue;  // free text
    if (line.size() > kMaxLine) {
      state.problem(line_no, "record line of " + std::to_string(line.size()) + " bytes exceeds 16 MiB; skipped");
      continue;
    }
    if (state.runs_seen() > 0 && scan_step_record(line, scanned)) {
      state.on_step(scanned.step, std::move(scanned.data));
      continue;
    }
    if (json_nesting_depth(line) > kMaxDepth) {
      state.problem(line_no, "record nested deeper than " + std::to_string(kMaxDepth) + " levels; skipped");
      continue;
    }
    auto parsed = proto::parse_record(line);
    if (!parsed.record) {
      state.problem(line_no, parsed.error);
      continue;
    }
    const proto::Event ev = parsed.record->event;
    Json& j = parsed.record->body;
    if (ev != proto::Event::Run && state.runs_seen() == 0) {
      if (orphans++ == 0) orphan_line = line_no;
      continue;
    }
    try {
      switch (ev) {
        case proto::Event::Run:
          if (j["run_key"].get<std::string>().empty())
            state.problem(line_no, "run: empty \"run_key\"; ignored");
          else
            state.on_run(j, line_no);
          break;
        case proto::Event::Start: state.on_start(j, line_no); break;
        case proto::Event::Step: {
          const auto step = j["step"].get<std::int64_t>();
          j.erase("event");
          state.on_step(step, j.dump(-1, ' ', false, Json::error_handler_t::replace));
          break;
        }
        case proto::Event::Metric: state.on_metric(j, line_no); break;
        case proto::Event::Summary: state.on_summary(j, line_no); break;
        case proto::Event::End: state.on_end(j, line_no); break;
        case proto::Event::Exit: state.on_exit(j, line_no); break;
      }
    } catch (const Json::exception& e) {
      // parse_record checked the required fields; this is an optional one of a surprising type.
      state.problem(line_no, std::string(proto::to_string(ev)) + ": " + e.what());
    }
  }

  if (state.runs_seen() == 0)
    throw Error("log holds no `run` record (not written by the harness?)", Where{file.rel_path, 0, 0});
  if (orphans > 0)
    state.problem(orphan_line, std::to_string(orphans) + " record(s) before the first `run` record; ignored");
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const LogProblem& a, const LogProblem& b) { return a.line < b.line; });
  out.records = state.finish();
  out.records.run.log_path = file.rel_path;
  out.records.run.log_size = file.size;
  out.records.run.log_mtime = file.mtime;
  return out;
}

}  // namespace jenga::harness
