// Resume (ok runs are not run again), --retry for crashed runs, --force, dry-run, and a harness
// killed with -9 mid-sweep: its worker dies with it, the next `jenga run` finishes the sweep,
// and ingesting twice leaves every run exactly once in the database.
#include "e2e_support.hpp"

#include "harness/store/store.hpp"

#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

#include <set>

namespace jenga::e2e {
namespace {

namespace proto = jenga::protocol;
using harness::RunRow;
using harness::Store;

int count_records(const std::string& log, proto::Event ev) {
  int n = 0;
  for (const auto& l : read_lines(log)) {
    const auto pr = proto::parse_record(l);
    n += pr.record && pr.record->event == ev;
  }
  return n;
}

RunRow by_behaviour(Store& store, const std::string& exp, const std::string& behaviour) {
  for (const auto& r : store.runs(exp))
    if (r.params.value("behaviour", "") == behaviour) return r;
  ADD_FAILURE() << "no " << behaviour << " run in " << exp;
  return {};
}

TEST(E2E, ResumeSkipsOkRunsAndRetriesCrashedOnes) {
  TempRepo repo;
  repo.write("experiments/res.yaml", "name: res\ntask: t\nmatrix:\n  fixed: {steps: 1, marker: " + repo.path("marker") +
                                         "}\n  sweep:\n    behaviour: [ok, signal]\n");
  const std::vector<std::string> base = {"run", "res", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker};
  Result r = jenga(repo, base);
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  std::string ok_key, crash_key;
  {
    Store store(repo.db());
    ok_key = by_behaviour(store, "res", "ok").key;
    crash_key = by_behaviour(store, "res", "signal").key;
  }
  EXPECT_EQ(repo.marks_of(ok_key), 1);
  EXPECT_EQ(repo.marks_of(crash_key), 1);

  // Dry run: the ok run would be skipped, the crashed one run again; nothing starts.
  auto dry = base;
  dry.push_back("--dry-run");
  r = jenga(repo, dry);
  EXPECT_EQ(r.rc, 0) << r.err;
  std::istringstream plan(r.out);
  int lines_with_key = 0;
  for (std::string line; std::getline(plan, line);) {
    if (line.find(ok_key) != std::string::npos) {
      ++lines_with_key;
      EXPECT_NE(line.find("would skip (ok)"), std::string::npos) << line;
    }
    if (line.find(crash_key) != std::string::npos) {
      ++lines_with_key;
      EXPECT_NE(line.find("would run (last: crashed)"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(lines_with_key, 2) << r.out;
  EXPECT_EQ(repo.marks().size(), 2u);

  // Second run with --retry 2: ok skipped, the crash tried 1 + 2 more times.
  auto retry = base;
  retry.insert(retry.end(), {"--retry", "2"});
  r = jenga(repo, retry);
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("1 skipped"), std::string::npos) << r.out;
  EXPECT_EQ(repo.marks_of(ok_key), 1) << "a run whose log ends ok is not run again";
  EXPECT_EQ(repo.marks_of(crash_key), 4);
  EXPECT_EQ(count_records(repo.log("res", crash_key), proto::Event::Run), 4);
  EXPECT_EQ(count_records(repo.log("res", crash_key), proto::Event::Exit), 4);
  {
    Store store(repo.db());
    EXPECT_EQ(by_behaviour(store, "res", "signal").attempts, 4);
    EXPECT_EQ(by_behaviour(store, "res", "signal").status, "crashed");
    EXPECT_EQ(by_behaviour(store, "res", "ok").attempts, 1);
  }

  // --force runs the ok one again (a second attempt in its log), --filter picks it alone.
  auto force = base;
  force.insert(force.end(), {"--force", "--filter", "behaviour=ok"});
  r = jenga(repo, force);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(repo.marks_of(ok_key), 2);
  EXPECT_EQ(repo.marks_of(crash_key), 4);
  Store store(repo.db());
  EXPECT_EQ(by_behaviour(store, "res", "ok").attempts, 2);
}

TEST(E2E, RetryGivesOnePlusNAttempts) {
  TempRepo repo;
  repo.write("experiments/crashy.yaml", "name: crashy\ntask: t\nmatrix:\n  fixed: {behaviour: no_end, steps: 1, marker: " +
                                            repo.path("marker") + "}\n");
  const Result r = jenga(repo, {"run", "crashy", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker,
                                "--retry", "3"});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  Store store(repo.db());
  const auto rows = store.runs("crashy");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "crashed");
  EXPECT_EQ(rows[0].attempts, 4);
  EXPECT_EQ(repo.marks().size(), 4u);
}

TEST(E2E, KillNineMidSweepThenResumeAndIngestTwice) {
  TempRepo repo;
  const int kRuns = 6;
  repo.write("experiments/sweep.yaml", "name: sweep\ntask: t\nmatrix:\n  fixed: {behaviour: slow_ok, steps: 3, sleep_ms: 150, "
                                       "marker: " + repo.path("marker") + "}\n  sweep:\n    i: [0, 1, 2, 3, 4, 5]\n");
  const std::vector<std::string> args = {"run", "sweep", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker};
  const pid_t harness = spawn_jenga(args, repo.root(), repo.path("out0"), repo.path("err0"));
  // Wait for the third worker to start (two runs done), then kill the harness outright.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (repo.marks().size() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(repo.marks().size(), 3u) << read_file(repo.path("err0"));
  ::kill(harness, SIGKILL);
  EXPECT_EQ(wait_exit(harness), 128 + SIGKILL);
  const std::string last = repo.marks().back();
  const int orphan = std::stoi(last.substr(last.find(' ') + 1));
  EXPECT_TRUE(process_gone(orphan)) << "worker " << orphan << " outlived its harness";

  Result r = jenga(repo, args);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  for (int i = 0; i < 2; ++i) {
    r = jenga(repo, {"ingest", "--root", repo.root()});
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
  }
  r = jenga(repo, {"ingest", "--root", repo.root(), "--force"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;

  Store store(repo.db());
  const auto rows = store.runs("sweep");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kRuns));
  std::set<std::string> keys;
  int attempts = 0, resumed = 0;
  for (const auto& row : rows) {
    keys.insert(row.key);
    EXPECT_EQ(row.status, "ok") << row.key << ": " << row.message;
    EXPECT_EQ(store.steps(row.key).size(), 3u) << "steps of the last attempt only";
    attempts += row.attempts;
    resumed += row.attempts == 2;
    // Runs that finished before the kill were not run again.
    EXPECT_EQ(repo.marks_of(row.key), row.attempts) << row.key;
  }
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(kRuns));
  EXPECT_GE(resumed, 1) << "the run cut short by the kill is attempted again";
  EXPECT_EQ(attempts, static_cast<int>(repo.marks().size()));
  EXPECT_EQ(store.runs().size(), static_cast<std::size_t>(kRuns)) << "no duplicate or stray rows";
}

}  // namespace
}  // namespace jenga::e2e

namespace jenga::e2e {
namespace {

// Ctrl-C: the running worker (which ignores SIGTERM) is killed after the grace period and ends
// as `killed`; runs not yet started never start; exit code 1. A second signal kills at once.
TEST(E2E, InterruptStopsTheSweep) {
  TempRepo repo;
  repo.write("experiments/stuck.yaml", "name: stuck\ntask: t\nmatrix:\n  fixed: {behaviour: hang, marker: " +
                                           repo.path("marker") + "}\n  sweep:\n    i: [0, 1, 2]\n");
  const std::vector<std::string> args = {"run", "stuck", "--profile", "cpu", "--root", repo.root(),
                                         "--worker", kFakeWorker, "--kill-grace", "0.3"};
  auto wait_marks = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (repo.marks().size() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return repo.marks().size() >= n;
  };
  pid_t pid = spawn_jenga(args, repo.root(), repo.path("out1"), repo.path("err1"));
  ASSERT_TRUE(wait_marks(1));
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid, 20), 1) << read_file(repo.path("err1"));
  EXPECT_NE(read_file(repo.path("out1")).find("interrupted"), std::string::npos) << read_file(repo.path("out1"));
  EXPECT_EQ(repo.marks().size(), 1u) << "runs not started when the stop came never start";
  {
    harness::Store store(repo.db());
    const auto rows = store.runs("stuck");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].status, "killed");
  }
  const std::string first = repo.marks().back();
  EXPECT_TRUE(process_gone(std::stoi(first.substr(first.find(' ') + 1))));

  // Two signals: the second does not wait out the (long) grace: the harness exits 130 at once
  // and the worker dies with it.
  auto patient = args;
  patient.back() = "30";  // --kill-grace 30
  pid = spawn_jenga(patient, repo.root(), repo.path("out2"), repo.path("err2"));
  ASSERT_TRUE(wait_marks(2));
  ::kill(pid, SIGTERM);
  // Signals of one kind do not queue: send the second once the first has been handled.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read_file(repo.path("err2")).find("stopping") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 10), 130) << read_file(repo.path("err2"));
  const std::string second = repo.marks().back();
  EXPECT_TRUE(process_gone(std::stoi(second.substr(second.find(' ') + 1))));
}

}  // namespace
}  // namespace jenga::e2e

namespace jenga::e2e {
namespace {

// A worker that neither writes nor exits (so no SIGPIPE would end it) still dies with a harness
// killed by -9: its parent-death signal is SIGKILL.
TEST(E2E, KillNineTakesASilentWorkerAlong) {
  TempRepo repo;
  repo.write("experiments/silent.yaml",
             "name: silent\ntask: t\nmatrix:\n  fixed: {behaviour: hang, marker: " + repo.path("marker") + "}\n");
  const pid_t pid = spawn_jenga({"run", "silent", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker},
                                repo.root(), repo.path("out"), repo.path("err"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (repo.marks().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(repo.marks().size(), 1u) << read_file(repo.path("err"));
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  const std::string mark = repo.marks().back();
  const int worker = std::stoi(mark.substr(mark.find(' ') + 1));
  const bool gone = process_gone(worker);
  if (!gone) ::kill(worker, SIGKILL);  // leave nothing behind even when failing
  EXPECT_TRUE(gone) << "worker " << worker << " outlived its harness";
}

}  // namespace
}  // namespace jenga::e2e
