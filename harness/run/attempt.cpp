#include "harness/run/attempt.hpp"

#include "harness/run/child_process.hpp"
#include "harness/run/log_sink.hpp"

#include <jenga/protocol/record.hpp>

#include <fmt/format.h>

#include <csignal>

namespace jenga::harness {

namespace proto = jenga::protocol;

std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    default: return "signal " + std::to_string(sig);
  }
}

namespace {

std::string exit_message(const std::string& status, const ChildResult& r, const AttemptSetup& s) {
  if (status == "timeout") return fmt::format("timed out after {}s", s.timeout_s);
  if (status == "killed") return "stopped by the harness (interrupted)";
  if (r.signal != 0) {
    std::string m = fmt::format("killed by {} ({})", signal_name(r.signal), r.signal);
    if (status == "oom") m += "; out-of-memory message in the output";
    return m;
  }
  if (r.end_status.empty()) {
    std::string m = fmt::format("exited with code {} without an end record", r.exit_code);
    if (status == "oom") m += "; out-of-memory message in the output";
    return m;
  }
  if (status == "error" && r.end_status == "ok")
    return fmt::format("end record says ok but the exit code is {}", r.exit_code);
  return r.end_message;
}

proto::Status to_status(const std::string& s) {
  const auto st = proto::status_from_string(s);
  return st ? *st : proto::Status::Error;
}

}  // namespace

AttemptResult run_attempt(const PlannedRun& run, const AttemptSetup& setup, const std::atomic<bool>* stop) {
  LogSink log(setup.log_path);
  proto::Json argv = proto::Json::array();
  argv.push_back(setup.exe);
  for (const auto& a : setup.args) argv.push_back(a);
  log.write_line(proto::make_run(run.experiment, run.profile, run.key, run.task, run.params, argv, setup.attempt,
                                 iso8601_utc_now())
                     .dump(-1, ' ', false, proto::Json::error_handler_t::replace));

  AttemptResult out;
  if (!setup.setup_error.empty()) {
    out.status = "error";
    out.message = setup.setup_error;
    log.write_line(proto::make_exit(proto::Status::Error, nullptr, nullptr, 0.0, iso8601_utc_now(), out.message)
                       .dump(-1, ' ', false, proto::Json::error_handler_t::replace));
    return out;
  }

  OutputTee tee(log);
  ChildSpec spec;
  spec.exe = setup.exe;
  spec.args = setup.args;
  spec.env = setup.env;
  spec.cwd = setup.cwd;
  spec.timeout_s = setup.timeout_s;
  spec.kill_grace_s = setup.kill_grace_s;
  const ChildResult r = run_child(spec, tee, stop);
  out.duration_s = r.duration_s;

  proto::Json exit_code = nullptr, signal = nullptr;
  if (!r.launched) {
    out.status = "error";
    out.message = r.launch_error;
  } else {
    ExitObservation obs;
    obs.timed_out = r.timed_out;
    obs.interrupted = r.interrupted;
    obs.exit_code = r.exit_code;
    obs.signal = r.signal;
    obs.end_status = r.end_status;
    obs.oom_text_seen = r.oom_text_seen;
    out.status = classify_exit(obs);
    out.message = exit_message(out.status, r, setup);
    if (r.signal != 0)
      signal = r.signal;
    else
      exit_code = r.exit_code;
  }
  log.write_line(
      proto::make_exit(to_status(out.status), exit_code, signal, out.duration_s, iso8601_utc_now(), out.message)
                       .dump(-1, ' ', false, proto::Json::error_handler_t::replace));
  return out;
}

}  // namespace jenga::harness
