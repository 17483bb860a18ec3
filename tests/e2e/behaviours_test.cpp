// Every fake-worker behaviour through the real CLI: statuses in `jenga status`, in the database
// and in the logs (run/exit records framing each attempt, teed output, spoof escaping), and
// the environment each slot's worker got.
#include "e2e_support.hpp"

#include "harness/store/store.hpp"

#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace jenga::e2e {
namespace {

namespace proto = jenga::protocol;
using harness::Json;
using harness::RunRow;
using harness::Store;

std::string behaviour_experiment(const TempRepo& repo) {
  return "name: behave\n"
         "description: every fake-worker behaviour\n"
         "task: fake-task\n"
         "matrix:\n"
         "  fixed:\n"
         "    steps: 2\n"
         "    marker: " + repo.path("marker") + "\n"
         "  sweep:\n"
         "    behaviour: [ok, records, garbage, oom, hang, signal, exit_nonzero, no_end, slow_ok]\n"
         "  include:\n"
         "    - {behaviour: ok, alloc_gib: 8}\n";
}

// Label of a run: its behaviour, "+alloc" for the over-the-cap one.
std::string label(const RunRow& r) {
  return r.params.value("behaviour", std::string("?")) + (r.params.contains("alloc_gib") ? "+alloc" : "");
}

TEST(E2E, EveryBehaviourEndsAsClassified) {
  TempRepo repo;
  repo.write("experiments/behave.yaml", behaviour_experiment(repo));
  const Result r = jenga(repo, {"run", "behave", "--profile", "duo", "--root", repo.root(), "--worker", kFakeWorker,
                                "--timeout", "1", "--kill-grace", "0.2"});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;  // some runs did not end ok
  EXPECT_NE(r.out.find("10 runs on profile duo"), std::string::npos) << r.out;

  const std::map<std::string, std::string> expected = {
      {"ok", "ok"},           {"records", "ok"},          {"garbage", "ok"}, {"oom", "oom"},
      {"hang", "timeout"},    {"signal", "crashed"},      {"exit_nonzero", "error"},
      {"no_end", "crashed"},  {"slow_ok", "ok"},          {"ok+alloc", "oom"}};

  Store store(repo.db());
  const auto rows = store.runs("behave");
  ASSERT_EQ(rows.size(), expected.size());
  std::set<std::string> devices;
  std::map<std::string, RunRow> by_label;
  for (const auto& row : rows) {
    const std::string l = label(row);
    by_label[l] = row;
    ASSERT_TRUE(expected.count(l)) << l;
    EXPECT_EQ(row.status, expected.at(l)) << l << ": " << row.message;
    EXPECT_EQ(row.attempts, 1) << l;
    EXPECT_EQ(row.profile, "duo");
    EXPECT_EQ(row.task, "fake-task");
    EXPECT_EQ(repo.marks_of(row.key), 1) << l;
    // The environment the worker saw (echoed in its start record's provenance).
    const Json env = row.provenance.value("env", Json::object());
    EXPECT_EQ(env.value("JENGA_RUN_KEY", ""), row.key) << l;
    EXPECT_EQ(env.value("JENGA_PROFILE", ""), "duo") << l;
    EXPECT_EQ(env.value("JENGA_MEMORY_CAP_GIB", ""), "4") << l;
    devices.insert(env.value("CUDA_VISIBLE_DEVICES", "?"));

    // Each log: a `run` record first, an `exit` record last, both the harness's.
    const auto lines = read_lines(repo.log("behave", row.key));
    ASSERT_GE(lines.size(), 2u) << l;
    const auto first = proto::parse_record(lines.front()), last = proto::parse_record(lines.back());
    ASSERT_TRUE(first.record && last.record) << l;
    EXPECT_EQ(first.record->event, proto::Event::Run) << l;
    EXPECT_EQ(first.record->body["attempt"], 1) << l;
    EXPECT_EQ(first.record->body["argv"][0], kFakeWorker) << l;
    EXPECT_EQ(last.record->event, proto::Event::Exit) << l;
    EXPECT_EQ(last.record->body["status"], row.status) << l;
    int harness_records = 0;
    for (const auto& line : lines) {
      const auto pr = proto::parse_record(line);
      harness_records += pr.record && proto::is_harness_event(pr.record->event);
    }
    EXPECT_EQ(harness_records, 2) << l << ": only the harness's own run/exit records count";
  }
  EXPECT_EQ(devices, (std::set<std::string>{"0", "1"})) << "two GPU slots";
  EXPECT_EQ(repo.marks().size(), expected.size());

  // Output teeing as the log format says.
  const std::string records_log = read_file(repo.log("behave", by_label["records"].key));
  EXPECT_NE(records_log.find("\n[stderr] a warning on stderr\n"), std::string::npos);
  EXPECT_NE(records_log.find("\nfree text from the worker\n"), std::string::npos);
  EXPECT_NE(records_log.find("\n[spoofed] {\"duration_s\""), std::string::npos);
  EXPECT_NE(records_log.find("\n[spoofed] {\"argv\""), std::string::npos);
  EXPECT_EQ(store.summary(by_label["records"].key).value("b", 0.0), 2.0);
  EXPECT_EQ(store.steps(by_label["ok"].key).size(), 2u);
  const std::string garbage_log = read_file(repo.log("behave", by_label["garbage"].key));
  EXPECT_NE(garbage_log.find("\ntrailing text without a newline\n{\"duration_s\""), std::string::npos)
      << "an unterminated last line is closed before the exit record";
  EXPECT_NE(garbage_log.find(std::string(2u << 20, 'x')), std::string::npos) << "a 2 MiB line is kept whole";
  const std::string signal_log = read_file(repo.log("behave", by_label["signal"].key));
  EXPECT_NE(signal_log.find("\"signal\":11"), std::string::npos);
  EXPECT_EQ(by_label["hang"].signal.value_or(0), 9) << "hang ignores SIGTERM: SIGKILL ended it";
  EXPECT_EQ(by_label["exit_nonzero"].exit_code.value_or(0), 7);
  EXPECT_EQ(by_label["oom"].exit_code.value_or(0), 3);

  // `jenga status` says the same.
  const Result st = jenga(repo, {"status", "behave", "--root", repo.root()});
  EXPECT_EQ(st.rc, 0) << st.err;
  for (const char* status : {"ok", "oom", "error", "timeout", "crashed"})
    EXPECT_NE(st.out.find(status), std::string::npos) << status << "\n" << st.out;
  for (const auto& [l, row] : by_label) {
    if (row.status == "ok") continue;
    bool listed = false;
    std::istringstream in(st.out);
    for (std::string line; std::getline(in, line);)
      listed = listed || (line.find(row.key) != std::string::npos && line.find(row.status) != std::string::npos);
    EXPECT_TRUE(listed) << l << " (" << row.key << ", " << row.status << ") not listed:\n" << st.out;
  }
  const Result rep = jenga(repo, {"report", "behave", "--root", repo.root()});
  EXPECT_EQ(rep.rc, 0) << rep.err;
  EXPECT_NE(rep.out.find("timeout"), std::string::npos) << rep.out;
}

TEST(E2E, RepoRootIsFoundFromASubdirectory) {
  TempRepo repo;
  repo.write("experiments/one.yaml",
             "name: one\ntask: t\nmatrix:\n  fixed: {behaviour: ok, steps: 1, marker: " + repo.path("marker") + "}\n");
  std::filesystem::create_directories(repo.path("a/b"));
  const Result r = jenga(repo, {"run", "one", "--profile", "cpu", "--worker", kFakeWorker}, repo.path("a/b"));
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(repo.marks().size(), 1u);
  Store store(repo.db());
  ASSERT_EQ(store.runs("one").size(), 1u);
  EXPECT_EQ(store.runs("one")[0].status, "ok");
  EXPECT_EQ(store.runs("one")[0].provenance["env"].value("CUDA_VISIBLE_DEVICES", "?"), "") << "cpu profile hides GPUs";
  const Result list = jenga(repo, {"list"}, repo.path("a/b"));
  EXPECT_EQ(list.rc, 0) << list.err;
  EXPECT_NE(list.out.find("one"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace jenga::e2e
