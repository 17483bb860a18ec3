// Harness overhead per run: N runs of a trivially fast fake worker through run_all with 1 and 2
// slots (no index, then with the SQLite index), against a bare posix_spawn + waitpid of the
// same command. Also the cost of a resume pass where every run is skipped.
//   bench_scheduler_overhead [runs=200]
// Needs the fake worker: JENGA_BINARY_DIR/bin/fake_worker (ninja fake_worker).
#include "harness/plan/plan.hpp"
#include "harness/run/scheduler.hpp"
#include "harness/store/store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;
using namespace jenga::harness;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kWorker = JENGA_BINARY_DIR "/bin/fake_worker";

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<PlannedRun> make_runs(int n) {
  std::vector<PlannedRun> runs;
  for (int i = 0; i < n; ++i) {
    PlannedRun r;
    r.experiment = "bench";
    r.profile = "bench";
    r.task = "noop";
    r.params = Json{{"behaviour", "ok"}, {"steps", 0}, {"i", i}};
    r.key = run_key(r.experiment, r.params, r.profile);
    runs.push_back(std::move(r));
  }
  return runs;
}

// Mean seconds of posix_spawn + waitpid of the worker with a run's argv, output to a pipe we
// drain (as the harness does), n times.
double bare_spawn(const std::vector<PlannedRun>& runs) {
  const auto t0 = Clock::now();
  for (const auto& r : runs) {
    std::vector<std::string> a = {kWorker, r.task, "--run-key", r.key, "--params", r.params.dump()};
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) std::abort();
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    char buf[4096];
    while (::read(fds[0], buf, sizeof buf) > 0) {
    }
    ::close(fds[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
  }
  return since(t0) / static_cast<double>(runs.size());
}

struct Measured {
  double wall = 0, worker_sum = 0;
  int not_ok = 0;
};

Measured sweep(const std::vector<PlannedRun>& runs, int slots, const std::string& logs, Store* store) {
  Profile p;
  p.name = "bench";
  p.gpus = 1;
  p.slots_per_gpu = slots;
  p.timeout_s = 60;
  SchedulerOptions opt;
  opt.worker = kWorker;
  opt.logs_dir = logs;
  opt.repo_root = fs::path(logs).parent_path().string();
  Measured m;
  std::fprintf(stderr, "sweep: %zu runs, %d slot(s)%s\n", runs.size(), slots, store ? ", indexed" : "");
  const auto t0 = Clock::now();
  const auto out = run_all(runs, p, store, opt);
  m.wall = since(t0);
  for (const auto& o : out) {
    m.worker_sum += o.duration_s;
    m.not_ok += o.status != "ok" && o.status != "skipped";
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  if (n <= 0 || ::access(kWorker.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "usage: bench_scheduler_overhead [runs>0]; needs %s\n", kWorker.c_str());
    return 2;
  }
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("jenga-bench-sched-" + std::to_string(rd()));
  fs::create_directories(dir);
  const auto runs = make_runs(n);

  const double bare = bare_spawn(runs);
  std::printf("runs: %d of fake_worker (behaviour ok, 0 steps)\n", n);
  std::printf("bare posix_spawn + drain + waitpid: %.2f ms per run\n\n", bare * 1e3);
  std::printf("%-22s %10s %12s %14s %16s %14s\n", "config", "wall s", "wall/run ms", "worker/run ms",
              "overhead/run ms", "vs bare ms");

  struct Config {
    const char* name;
    int slots;
    bool indexed;
  };
  for (const Config c : {Config{"1 slot", 1, false}, Config{"2 slots", 2, false}, Config{"1 slot + index", 1, true},
                         Config{"2 slots + index", 2, true}}) {
    const std::string logs = (dir / (std::string("logs-") + std::to_string(c.slots) + (c.indexed ? "-db" : ""))).string();
    std::unique_ptr<Store> store;
    if (c.indexed) store = std::make_unique<Store>((dir / (std::to_string(c.slots) + ".sqlite")).string());
    const Measured m = sweep(runs, c.slots, logs, store.get());
    // Harness time per run: wall time the slots were busy minus the time workers ran (launch to
    // reap, as the harness measures it), spread over the runs.
    const double overhead = (m.wall * c.slots - m.worker_sum) / n;
    const double per_run = m.wall / n;
    std::printf("%-22s %10.2f %12.2f %14.2f %16.2f %14.2f%s\n", c.name, m.wall, per_run * 1e3, m.worker_sum / n * 1e3,
                overhead * 1e3, (per_run * c.slots - bare) * 1e3, m.not_ok ? "  (runs failed!)" : "");
    if (c.slots == 1 && c.indexed) {
      const Measured again = sweep(runs, 1, logs, store.get());
      std::printf("%-22s %10.2f %12.2f\n", "resume (all skipped)", again.wall, again.wall / n * 1e3);
    }
  }
  std::printf("\n\"vs bare\": wall/run x slots minus the bare spawn; \"overhead\": slot-busy time not spent in a worker.\n");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
