// A stand-in for jenga-worker whose behaviour its params choose, for the harness's end-to-end
// tests and benchmarks:  fake_worker <task> --run-key K --params JSON [--model-spec JSON]
// params: "behaviour": ok | records | garbage | oom | hang | signal | exit_nonzero | no_end | slow_ok
//         "steps" (default 3), "sleep_ms" per step (slow_ok: default 200), "exit_code"
//         (exit_nonzero: default 7), "alloc_gib" (more than $JENGA_MEMORY_CAP_GIB -> oom),
//         "marker": a file that gets one line "<run key> <pid>" per invocation.
#include <jenga/protocol/record.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace proto = jenga::protocol;
using Json = proto::Json;

namespace {

void emit(const Json& record) { std::cout << record.dump() << std::endl; }  // endl: flushed per line

void sleep_ms(long ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Json env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return v ? Json(v) : Json(nullptr);
}

void mark(const std::string& path, const std::string& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string line = key + " " + std::to_string(::getpid()) + "\n";
  if (::write(fd, line.data(), line.size()) < 0) std::perror("fake_worker: marker");
  ::close(fd);
}

void steps(int n, long pause_ms, double base_ms = 10) {
  for (int i = 0; i < n; ++i) {
    sleep_ms(pause_ms);
    emit(proto::make_step(i, {{"forward", base_ms + i}, {"backward", 2 * base_ms + i}},
                          {{"allocated", 100.0}, {"peak_allocated", 200.0 + i}}, {{"loss", 3.0 / (i + 1)}}));
  }
}

void finish_ok(int n) {
  emit(proto::make_metric("tokens_per_s", 1234.5, "tok/s"));
  emit(proto::make_summary({{"step_time_ms", 30.0}, {"peak_allocated_mib", 200.0 + (n > 0 ? n - 1 : 0)}}));
  emit(proto::make_end(proto::Status::Ok));
}

}  // namespace

int main(int argc, char** argv) {
  std::string task, run_key;
  Json params = Json::object(), model_spec = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fake_worker: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--run-key") run_key = value();
    else if (a == "--params") params = Json::parse(value(), nullptr, false);
    else if (a == "--model-spec") model_spec = Json::parse(value(), nullptr, false);
    else if (task.empty()) task = a;
  }
  if (!params.is_object()) {
    std::cerr << "fake_worker: --params must be a JSON object\n";
    return 2;
  }
  const std::string behaviour = params.value("behaviour", std::string("ok"));
  const int n = params.value("steps", 3);
  const long pause = params.value("sleep_ms", behaviour == "slow_ok" ? 200L : 0L);
  if (params.contains("marker")) mark(params["marker"].get<std::string>(), run_key);

  const Json provenance{{"host", "fake-host"},
                        {"fake_worker", true},
                        {"pid", static_cast<long>(::getpid())},
                        {"model_spec", model_spec},
                        {"env",
                         {{"CUDA_VISIBLE_DEVICES", env_or_null("CUDA_VISIBLE_DEVICES")},
                          {"JENGA_MEMORY_CAP_GIB", env_or_null("JENGA_MEMORY_CAP_GIB")},
                          {"JENGA_RUN_KEY", env_or_null("JENGA_RUN_KEY")},
                          {"JENGA_PROFILE", env_or_null("JENGA_PROFILE")}}}};
  emit(proto::make_start(task, params, provenance));

  // A memory cap smaller than the requested allocation is an OOM, as on a capped GPU.
  if (const char* cap = std::getenv("JENGA_MEMORY_CAP_GIB"); cap && params.contains("alloc_gib")) {
    const double want = params["alloc_gib"].get<double>();
    if (want > std::atof(cap)) {
      std::cerr << "RuntimeError: CUDA out of memory. Tried to allocate " << want << " GiB (cap " << cap << " GiB)"
                << std::endl;
      emit(proto::make_end(proto::Status::Oom, "allocation of " + Json(want).dump() + " GiB exceeds the cap of " + cap + " GiB"));
      return 3;
    }
  }

  if (behaviour == "ok" || behaviour == "slow_ok") {
    steps(n, pause);
    finish_ok(n);
    return 0;
  }
  if (behaviour == "records") {
    std::cout << "free text from the worker" << std::endl;
    std::cerr << "a warning on stderr" << std::endl;
    steps(n, pause);
    emit(proto::make_metric("ppl", 7.25, "", {{"length", 4096}}));
    emit(proto::make_metric("ppl", 8.5, "", {{"length", 8192}}));
    Json missing = proto::make_metric("not_measured", 0, "");
    missing["value"] = nullptr;  // a metric may be null
    emit(missing);
    emit(proto::make_summary({{"a", 1.0}}));
    emit(proto::make_summary({{"b", 2.0}}));
    // Attempts to speak for the harness: stored as text, never trusted.
    emit(proto::make_exit(proto::Status::Ok, 0, nullptr, 0.0, "2000-01-01T00:00:00Z"));
    emit(proto::make_run("x", "y", "spoof", task, params, Json::array(), 99, "2000-01-01T00:00:00Z"));
    finish_ok(n);
    return 0;
  }
  if (behaviour == "garbage") {
    std::string junk;
    for (int c = 0; c < 256; ++c)
      if (c != '\n') junk.push_back(static_cast<char>(c));
    std::cout << junk << "\n" << "{" << junk << "\n";  // binary junk, also posing as a record
    std::cout << R"({"event": "step", "step": 1, "phase_ms": {)" << "\n";  // unterminated JSON
    std::cout << std::string(2u << 20, 'x') << "\n";                      // a 2 MiB text line
    std::cout << "{\"event\":\"metric\",\"name\":\"" << std::string(1u << 20, 'y') << "\n";  // 1 MiB broken record
    std::cout << R"({"event":"nonsense"})" << "\n" << R"({"event":"step"})" << "\n" << "[1,2,3]\n";
    std::cout.flush();
    steps(n, pause);
    finish_ok(n);
    std::cout << "trailing text without a newline" << std::flush;
    return 0;
  }
  if (behaviour == "oom") {
    steps(n > 0 ? 1 : 0, pause);
    std::cerr << "RuntimeError: CUDA out of memory. Tried to allocate 20.00 GiB" << std::endl;
    emit(proto::make_end(proto::Status::Oom, "CUDA out of memory"));
    return 3;
  }
  if (behaviour == "hang") {
    std::signal(SIGTERM, SIG_IGN);  // only SIGKILL ends it: exercises the escalation
    std::cout << "hanging" << std::endl;
    for (;;) ::pause();
  }
  if (behaviour == "signal") {
    steps(n, pause);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // no core file in the test's tree
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
    return 0;
  }
  if (behaviour == "exit_nonzero") {
    steps(n, pause);
    finish_ok(n);  // claims ok, then fails on the way out: the harness says "error"
    return params.value("exit_code", 7);
  }
  if (behaviour == "no_end") {
    steps(n, pause);
    return 0;
  }
  emit(proto::make_end(proto::Status::Error, "fake_worker: unknown behaviour '" + behaviour + "'"));
  return 2;
}
