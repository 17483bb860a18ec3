// run_all with a /bin/sh stand-in worker whose behaviour is its task name: logs (run and exit
// records around each attempt), resume, retries, slots and their environment, stop, timeouts,
// launch and setup errors, the Store kept in step.
#include "harness/run/scheduler.hpp"

#include "harness/ingest/ingest.hpp"
#include "harness/plan/plan.hpp"
#include "tests/harness/temp_dir.hpp"

#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

namespace jenga::harness {
namespace {

namespace proto = jenga::protocol;
using test::read_file;
using test::read_lines;
using test::TempDir;

// $1 task, $3 run key, $5 params JSON, $7 model spec (when given).
const char* kWorker = R"(
echo "$3" >> "$MARK_DIR/$1.count"
echo "{\"event\":\"start\",\"task\":\"$1\",\"params\":$5,\"provenance\":{\"cvd\":\"${CUDA_VISIBLE_DEVICES-unset}\",\"key\":\"$JENGA_RUN_KEY\",\"profile\":\"$JENGA_PROFILE\",\"cap\":\"${JENGA_MEMORY_CAP_GIB-none}\",\"extra\":\"${EXTRA-none}\"}}"
case "$1" in
  ok) echo '{"event":"summary","values":{"x":1}}'; echo '{"event":"end","status":"ok"}' ;;
  slow) sleep 0.5; echo '{"event":"end","status":"ok"}' ;;
  crash) echo 'about to crash' >&2; kill -SEGV $$ ;;
  oom) echo 'CUDA out of memory' >&2; echo '{"event":"end","status":"oom","message":"too big"}'; exit 3 ;;
  hang) sleep 1000 ;;
  model) echo "MODEL $7"; echo '{"event":"end","status":"ok"}' ;;
esac
)";

struct Fixture {
  TempDir dir;
  SchedulerOptions opt;
  Profile profile;
  Fixture() {
    opt.worker = "/bin/sh";
    opt.worker_prefix_args = {"-c", kWorker, "fake-worker"};
    opt.logs_dir = dir.file("logs");
    opt.repo_root = dir.str();
    opt.kill_grace_s = 0.3;
    opt.extra_env = {{"MARK_DIR", dir.str()}};
    profile.name = "cpu";
    profile.gpus = 0;
    profile.timeout_s = 60;
  }
  PlannedRun planned(const std::string& task, int i = 0, Json extra = Json::object()) const {
    PlannedRun r;
    r.experiment = "exp";
    r.profile = profile.name;
    r.task = task;
    r.params = Json{{"i", i}, {"task", task}};
    r.params.update(extra);
    r.key = run_key(r.experiment, r.params, r.profile);
    return r;
  }
  int count(const std::string& task) const {
    return static_cast<int>(read_lines(dir.file(task + ".count")).size());
  }
  std::string log(const PlannedRun& r) const { return dir.file("logs/exp/" + r.key + ".jsonl"); }
};

std::vector<proto::Json> records(const std::string& path, proto::Event ev) {
  std::vector<proto::Json> out;
  for (const auto& l : read_lines(path)) {
    const auto pr = proto::parse_record(l);
    if (pr.record && pr.record->event == ev) out.push_back(pr.record->body);
  }
  return out;
}

TEST(Scheduler, EachAttemptIsFramedByRunAndExitRecordsAndIndexed) {
  Fixture f;
  Store store(f.dir.file("db.sqlite"));
  const std::vector<PlannedRun> runs = {f.planned("ok"), f.planned("crash"), f.planned("oom")};
  const auto out = run_all(runs, f.profile, &store, f.opt);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status, "ok");
  EXPECT_EQ(out[1].status, "crashed");
  EXPECT_EQ(out[2].status, "oom");
  EXPECT_EQ(out[1].message, "killed by SIGSEGV (11)");
  EXPECT_EQ(out[2].message, "too big");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].key, runs[i].key);
    EXPECT_EQ(out[i].attempts, 1);
    const auto lines = read_lines(f.log(runs[i]));
    ASSERT_GE(lines.size(), 3u);
    const auto first = proto::parse_record(lines.front());
    const auto last = proto::parse_record(lines.back());
    ASSERT_TRUE(first.record && last.record);
    EXPECT_EQ(first.record->event, proto::Event::Run);
    EXPECT_EQ(first.record->body["run_key"], runs[i].key);
    EXPECT_EQ(first.record->body["attempt"], 1);
    EXPECT_EQ(first.record->body["params"], runs[i].params);
    EXPECT_EQ(first.record->body["argv"][0], "/bin/sh");
    EXPECT_EQ(last.record->event, proto::Event::Exit);
    EXPECT_EQ(last.record->body["status"], out[i].status);
    const auto row = store.run(runs[i].key);
    ASSERT_TRUE(row) << runs[i].task;
    EXPECT_EQ(row->status, out[i].status);
    EXPECT_EQ(row->provenance.value("cvd", "?"), "");  // CPU profile hides every GPU
    EXPECT_EQ(row->provenance.value("key", "?"), runs[i].key);
    EXPECT_EQ(row->provenance.value("profile", "?"), "cpu");
    EXPECT_EQ(row->provenance.value("cap", "?"), "none");
  }
  const auto crash_exit = records(f.log(runs[1]), proto::Event::Exit).at(0);
  EXPECT_EQ(crash_exit["signal"], 11);
  EXPECT_TRUE(crash_exit["exit_code"].is_null());
  EXPECT_NE(read_file(f.log(runs[1])).find("[stderr] about to crash\n"), std::string::npos);
  EXPECT_EQ(records(f.log(runs[2]), proto::Event::Exit).at(0)["exit_code"], 3);
}

TEST(Scheduler, ResumeSkipsRunsThatEndedOkAndRerunsTheRest) {
  Fixture f;
  const std::vector<PlannedRun> runs = {f.planned("ok"), f.planned("crash")};
  run_all(runs, f.profile, nullptr, f.opt);
  const auto again = run_all(runs, f.profile, nullptr, f.opt);
  EXPECT_EQ(again[0].status, "skipped");
  EXPECT_EQ(again[0].attempts, 0);
  EXPECT_EQ(again[1].status, "crashed");
  EXPECT_EQ(f.count("ok"), 1);
  EXPECT_EQ(f.count("crash"), 2);
  const auto run_recs = records(f.log(runs[1]), proto::Event::Run);
  ASSERT_EQ(run_recs.size(), 2u);
  EXPECT_EQ(run_recs[1]["attempt"], 2);  // attempts count across invocations

  f.opt.force = true;
  const auto forced = run_all(runs, f.profile, nullptr, f.opt);
  EXPECT_EQ(forced[0].status, "ok");
  EXPECT_EQ(f.count("ok"), 2);
  EXPECT_EQ(parse_log(f.log(runs[0]), f.dir.str()).records.run.attempts, 2);
}

TEST(Scheduler, SkippedRunMissingFromTheIndexIsIndexed) {
  Fixture f;
  const std::vector<PlannedRun> runs = {f.planned("ok")};
  run_all(runs, f.profile, nullptr, f.opt);  // the harness "died" before indexing
  Store store(f.dir.file("db.sqlite"));
  const auto out = run_all(runs, f.profile, &store, f.opt);
  EXPECT_EQ(out[0].status, "skipped");
  const auto row = store.run(runs[0].key);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "ok");
  EXPECT_EQ(f.count("ok"), 1);
}

TEST(Scheduler, RetriesCrashedRuns) {
  Fixture f;
  Store store(f.dir.file("db.sqlite"));
  f.opt.retries = 2;
  const std::vector<PlannedRun> runs = {f.planned("crash"), f.planned("oom")};
  const auto out = run_all(runs, f.profile, &store, f.opt);
  EXPECT_EQ(out[0].status, "crashed");
  EXPECT_EQ(out[0].attempts, 3);
  EXPECT_EQ(out[1].attempts, 1);  // only crashes are retried
  EXPECT_EQ(f.count("crash"), 3);
  EXPECT_EQ(f.count("oom"), 1);
  EXPECT_EQ(store.run(runs[0].key)->attempts, 3);
}

TEST(Scheduler, SlotsGetTheirOwnGpuAndTheProfilesCap) {
  Fixture f;
  Store store(f.dir.file("db.sqlite"));
  f.profile.name = "h100";
  f.profile.gpus = 2;
  f.profile.slots_per_gpu = 1;
  f.profile.memory_cap_gib = 47.5;
  f.opt.extra_env["EXTRA"] = "yes";
  std::vector<PlannedRun> runs;
  for (int i = 0; i < 4; ++i) runs.push_back(f.planned("slow", i));
  const auto out = run_all(runs, f.profile, &store, f.opt);
  std::set<std::string> devices;
  for (const auto& r : runs) {
    const auto row = store.run(r.key);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, "ok");
    devices.insert(row->provenance.value("cvd", "?"));
    EXPECT_EQ(row->provenance.value("cap", "?"), "47.5");
    EXPECT_EQ(row->provenance.value("profile", "?"), "h100");
    EXPECT_EQ(row->provenance.value("extra", "?"), "yes");
  }
  EXPECT_EQ(devices, (std::set<std::string>{"0", "1"}));
}

TEST(Scheduler, TimeoutAndMissingWorkerAndUnknownModel) {
  Fixture f;
  f.opt.timeout_s = 0.3;
  auto out = run_all({f.planned("hang"), f.planned("model", 0, {{"model", "no-such-model"}})}, f.profile, nullptr, f.opt);
  EXPECT_EQ(out[0].status, "timeout");
  EXPECT_EQ(out[1].status, "error");
  EXPECT_NE(out[1].message.find("no-such-model"), std::string::npos) << out[1].message;
  EXPECT_EQ(records(out[0].log_path, proto::Event::Exit).at(0)["status"], "timeout");

  f.opt.worker = f.dir.file("missing-worker");
  out = run_all({f.planned("ok", 7)}, f.profile, nullptr, f.opt);
  EXPECT_EQ(out[0].status, "error");
  EXPECT_NE(out[0].message.find("missing-worker"), std::string::npos) << out[0].message;
  const auto exits = records(out[0].log_path, proto::Event::Exit);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0]["status"], "error");
  EXPECT_EQ(parse_log(out[0].log_path, f.dir.str()).records.run.status, "error");
}

TEST(Scheduler, ModelSpecIsResolvedToAbsolutePaths) {
  Fixture f;
  test::write_file(f.dir.file("configs/models/m1.yaml"),
                   "family: llama\nhf_config: configs/models/hf/m1/config.json\ncheckpoint: \"\"\nsource: \"hub/m1\"\n");
  test::write_file(f.dir.file("configs/models/hf/m1/config.json"), "{}");
  const auto out = run_all({f.planned("model", 0, {{"model", "m1"}})}, f.profile, nullptr, f.opt);
  ASSERT_EQ(out[0].status, "ok") << out[0].message;
  std::string spec_line;
  for (const auto& l : read_lines(out[0].log_path))
    if (l.rfind("MODEL ", 0) == 0) spec_line = l.substr(6);
  const Json spec = Json::parse(spec_line);
  EXPECT_EQ(spec["name"], "m1");
  EXPECT_EQ(spec["family"], "llama");
  EXPECT_EQ(spec["source"], "hub/m1");
  EXPECT_EQ(spec["checkpoint"], "");
  EXPECT_EQ(spec["hf_config"], (std::filesystem::path(f.dir.str()) / "configs/models/hf/m1/config.json").string());
}

TEST(Scheduler, StopKillsTheRunningAndSkipsTheRest) {
  Fixture f;
  std::vector<PlannedRun> runs = {f.planned("hang", 0), f.planned("hang", 1), f.planned("hang", 2)};
  std::thread stopper([&] {
    // Wait until the first worker has started, then ask to stop.
    for (int i = 0; i < 500 && f.count("hang") == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    request_stop();
  });
  const auto out = run_all(runs, f.profile, nullptr, f.opt);
  stopper.join();
  EXPECT_EQ(out[0].status, "killed");
  EXPECT_EQ(out[1].status, "skipped");
  EXPECT_EQ(out[2].status, "skipped");
  EXPECT_EQ(f.count("hang"), 1);
  EXPECT_FALSE(stop_requested()) << "the flag is cleared when run_all returns";
  EXPECT_EQ(parse_log(out[0].log_path, f.dir.str()).records.run.status, "killed");
}

}  // namespace
}  // namespace jenga::harness
