// run_all: resume check, slots, retries, per-run ingest. One thread per slot pulls the next
// run from a shared index; each run's attempts go to logs/<experiment>/<key>.jsonl.
#include "harness/run/scheduler.hpp"

#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "harness/run/attempt.hpp"
#include "harness/run/child_process.hpp"
#include "harness/run/progress.hpp"
#include "harness/run/worker_command.hpp"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

namespace jenga::harness {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be async-signal-safe");

struct Job {
  std::size_t index = 0;
  int prior_attempts = 0;  // attempts already in the log
};

class Sweep {
 public:
  Sweep(const std::vector<PlannedRun>& runs, const Profile& profile, Store* store, const SchedulerOptions& opt)
      : runs_(runs), profile_(profile), store_(store), opt_(opt), out_(runs.size()),
        progress_(static_cast<int>(runs.size()), slot_count(profile), opt.progress_tty, std::cerr, opt.repo_root),
        base_env_(current_environment()) {}

  std::vector<RunOutcome> run() {
    for (std::size_t i = 0; i < runs_.size(); ++i) plan_one(i);
    const int slots = std::min<int>(slot_count(profile_), static_cast<int>(jobs_.size()));
    std::vector<std::thread> threads;
    for (int s = 0; s < slots; ++s) threads.emplace_back([this, s] { slot_loop(s); });
    for (auto& t : threads) t.join();
    progress_.close();
    return std::move(out_);
  }

 private:
  std::string log_path(const PlannedRun& r) const {
    return (fs::path(opt_.logs_dir) / r.experiment / (r.key + ".jsonl")).string();
  }

  // Resume: a log whose last attempt ended ok means the run is done (unless forced).
  void plan_one(std::size_t i) {
    const PlannedRun& r = runs_[i];
    RunOutcome& o = out_[i];
    o.key = r.key;
    o.status = "skipped";
    o.log_path = log_path(r);
    Job job{i, 0};
    std::error_code ec;
    if (fs::exists(o.log_path, ec)) {
      try {
        const ParsedLog parsed = parse_log(o.log_path, opt_.repo_root);
        job.prior_attempts = parsed.records.run.attempts;
        if (!opt_.force && parsed.records.run.status == "ok") {
          o.duration_s = parsed.records.run.duration_s;
          index_if_stale(o.log_path, r.key);
          progress_.skipped(r, "ok");
          return;
        }
      } catch (const Error&) {
        // No run record at all (a harness killed as it opened the log): start afresh.
      }
    }
    jobs_.push_back(job);
  }

  // A finished log the index lacks (the harness died between the two) is indexed now.
  void index_if_stale(const std::string& path, const std::string& key) {
    if (!store_) return;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto row = store_->run(key);
    if (row && !ec && row->log_size == static_cast<std::int64_t>(size)) return;
    ingest(path);
  }

  void ingest(const std::string& path) {
    if (!store_) return;
    std::lock_guard<std::mutex> lock(store_mu_);  // Store is one connection, not thread-safe
    try {
      const auto problems = ingest_file(*store_, path, opt_.repo_root);
      if (!problems.empty())
        progress_.note("note: " + path + ": " + std::to_string(problems.size()) + " malformed line(s) kept as text");
    } catch (const Error& e) {
      progress_.note(std::string("warning: could not index ") + path + ": " + e.what());
    }
  }

  void slot_loop(int slot) {
    for (;;) {
      const std::size_t j = next_.fetch_add(1);
      if (j >= jobs_.size()) return;
      const Job& job = jobs_[j];
      const PlannedRun& r = runs_[job.index];
      if (g_stop.load()) {
        progress_.skipped(r, "stopped");
        continue;
      }
      try {
        execute(job, slot);
      } catch (const std::exception& e) {  // e.g. the log cannot be written: this run fails, others go on
        RunOutcome& o = out_[job.index];
        o.status = "error";
        o.message = e.what();
        progress_.finished(r, o);
      }
    }
  }

  void execute(const Job& job, int slot) {
    const PlannedRun& r = runs_[job.index];
    RunOutcome& o = out_[job.index];
    AttemptSetup setup;
    setup.log_path = o.log_path;
    setup.exe = opt_.worker;
    setup.cwd = opt_.repo_root;
    setup.timeout_s = opt_.timeout_s > 0 ? opt_.timeout_s : profile_.timeout_s;
    setup.kill_grace_s = opt_.kill_grace_s;
    int gpus = 1;
    try {
      gpus = gpus_needed(r);
      if (gpus > 1 && profile_.gpus > 0 && gpus > profile_.gpus)
        setup.setup_error = fmt::format("the run asks for {} GPUs; profile {} has {}", gpus, profile_.name, profile_.gpus);
      setup.env = worker_env(base_env_, r, profile_, slot, opt_);
    } catch (const Error& e) {
      setup.setup_error = e.what();
      setup.env = base_env_;
    }
    // A multi-GPU run has the machine to itself (its timings are the point); others share it.
    std::shared_lock<std::shared_mutex> shared(devices_mu_, std::defer_lock);
    std::unique_lock<std::shared_mutex> exclusive(devices_mu_, std::defer_lock);
    if (gpus > 1)
      exclusive.lock();
    else
      shared.lock();
    std::optional<Json> model_spec;
    if (const auto m = r.params.find("model"); m != r.params.end() && m->is_string()) {
      try {
        model_spec = model_spec_json(opt_.repo_root, m->get<std::string>());
      } catch (const Error& e) {
        setup.setup_error = std::string("cannot resolve model: ") + e.what();
      }
    }
    setup.args = worker_args(r, opt_, model_spec ? &*model_spec : nullptr);

    progress_.started(r);
    for (int a = 0;; ++a) {
      setup.attempt = job.prior_attempts + a + 1;
      const AttemptResult res = run_attempt(r, setup, &g_stop);
      o.status = res.status;
      o.message = res.status == "ok" ? std::string() : res.message;
      o.duration_s = res.duration_s;
      o.attempts = a + 1;
      if (res.status != "crashed" || a >= opt_.retries || g_stop.load()) break;
      progress_.retrying(r, res.status, setup.attempt + 1);
    }
    ingest(o.log_path);
    progress_.finished(r, o);
  }

  const std::vector<PlannedRun>& runs_;
  const Profile& profile_;
  Store* store_;
  const SchedulerOptions& opt_;
  std::vector<RunOutcome> out_;
  std::vector<Job> jobs_;
  std::atomic<std::size_t> next_{0};
  std::mutex store_mu_;
  std::shared_mutex devices_mu_;
  Progress progress_;
  const std::map<std::string, std::string> base_env_;
};

}  // namespace

void request_stop() { g_stop.store(true); }

bool stop_requested() { return g_stop.load(); }

std::vector<RunOutcome> run_all(const std::vector<PlannedRun>& runs, const Profile& profile, Store* store,
                                const SchedulerOptions& opt) {
  struct ClearStop {
    ~ClearStop() { g_stop.store(false); }
  } clear_on_return;
  Sweep sweep(runs, profile, store, opt);
  return sweep.run();
}

}  // namespace jenga::harness
