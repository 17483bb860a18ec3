// jenga run: plan the named experiments (or all) on a profile and run them; Ctrl-C stops
// gracefully (running workers get SIGTERM, then SIGKILL), a second Ctrl-C kills at once.
#include "harness/cli/commands.hpp"
#include "harness/cli/table.hpp"
#include "harness/common/error.hpp"
#include "harness/ingest/ingest.hpp"
#include "harness/plan/plan.hpp"
#include "harness/run/child_process.hpp"
#include "harness/run/progress.hpp"
#include "harness/run/scheduler.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/spec/profile.hpp"
#include "harness/spec/spec_files.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

namespace jenga::cli {

using namespace jenga::harness;
namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signals{0};

extern "C" void on_stop_signal(int) {
  if (g_signals.fetch_add(1) == 0) {
    request_stop();
    static const char msg[] = "\njenga: stopping; running workers get SIGTERM (press Ctrl-C again to kill them now)\n";
    (void)!::write(2, msg, sizeof msg - 1);
  } else {
    kill_all_children_now();
    static const char msg[] = "\njenga: killed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(130);
  }
}

// SIGINT/SIGTERM handlers for the lifetime of a sweep.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

struct Filter {
  std::string key;
  Json value;      // parsed as JSON when it parses (4096, true), else the text
  std::string text;
};

Filter parse_filter(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("run: --filter expects key=value, got '" + s + "'");
  Filter f{s.substr(0, eq), Json(), s.substr(eq + 1)};
  f.value = Json::parse(f.text, nullptr, /*allow_exceptions=*/false);
  if (f.value.is_discarded()) f.value = f.text;
  return f;
}

bool matches(const Json& params, const Filter& f) {
  const auto it = params.find(f.key);
  if (it == params.end()) return false;
  return *it == f.value || (it->is_string() && it->get<std::string>() == f.text);
}

std::vector<Experiment> select_experiments(const std::vector<std::string>& names, const std::string& root) {
  std::vector<Experiment> out;
  for (const auto& n : names) {
    if (n == "all") {
      for (auto& e : load_all_experiments(root)) out.push_back(std::move(e));
      continue;
    }
    if (!is_spec_name(n)) throw Error("run: '" + n + "' is not an experiment name");
    out.push_back(load_experiment(find_spec_file(root, "experiments", n, "experiment")));
  }
  return out;
}

std::string resolve_worker(const std::string& given, const Globals& g) {
  if (given.empty()) {
    const fs::path self = g.self.empty() ? fs::path() : fs::path(g.self).parent_path();
    return (self / "jenga-worker").string();
  }
  if (given.find('/') != std::string::npos) return fs::absolute(given).lexically_normal().string();
  if (const char* path = std::getenv("PATH")) {  // a bare name: look it up as a shell would
    std::stringstream dirs(path);
    for (std::string d; std::getline(dirs, d, ':');) {
      const fs::path cand = fs::path(d.empty() ? "." : d) / given;
      if (::access(cand.c_str(), X_OK) == 0) return fs::absolute(cand).string();
    }
  }
  return given;
}

// "would skip (ok)" when the log's last attempt ended ok, else "would run" (+ last status).
std::string resume_note(const PlannedRun& r, const Globals& g, bool force) {
  const std::string log = (fs::path(g.logs) / r.experiment / (r.key + ".jsonl")).string();
  std::error_code ec;
  if (!fs::exists(log, ec)) return "would run";
  try {
    const std::string last = parse_log(log, g.root).records.run.status;
    if (last == "ok") return force ? "would run (forced; last ok)" : "would skip (ok)";
    return "would run (last: " + last + ")";
  } catch (const Error&) {
    return "would run";
  }
}

}  // namespace

int cmd_run(const std::vector<std::string>& args, const Globals& base) {
  const std::vector<OptionSpec> own = {
      {"profile", true, false, "NAME", "hardware profile (configs/profiles/NAME.yaml); required"},
      {"dry-run", false, false, "", "print the plan (keys, params, what would be skipped) and stop"},
      {"quick", false, false, "", "apply the experiments' quick variant"},
      {"force", false, false, "", "re-run runs whose log already ends ok"},
      {"retry", true, false, "N", "re-run crashed runs up to N more times (default 0)"},
      {"worker", true, false, "PATH", "worker program (default: jenga-worker next to jenga)"},
      {"timeout", true, false, "S", "per-run time limit in seconds (default: the profile's)"},
      {"kill-grace", true, false, "S", "seconds between SIGTERM and SIGKILL (default 5)"},
      {"filter", true, true, "K=V", "only runs whose parameter K equals V (repeatable)"},
      {"memory-cap", true, false, "GIB",
       "cap each worker's device memory (does it fit on a smaller card?); runs are kept apart as "
       "profile <NAME>-cap<GIB> and their figures say so"},
  };
  if (wants_help(args)) {
    std::cout << command_help(
        "jenga run <experiment...|all> --profile NAME [options]",
        "Expands the experiments under the profile and runs each run as a worker process, as many at a\n"
        "time as the profile has slots (gpus x slots_per_gpu). Each run appends to\n"
        "logs/<experiment>/<key>.jsonl and is indexed into the database when it ends. Runs whose log\n"
        "already ends ok are skipped (resume) unless --force. Ctrl-C stops: running workers get\n"
        "SIGTERM then SIGKILL and end as `killed`; a second Ctrl-C kills them at once.",
        own);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = own;
  for (auto& o : global_options()) specs.push_back(o);
  const ParsedArgs a = parse_args(args, specs, "run");
  const Globals g = resolve_globals(a, base);
  if (a.positionals().empty()) throw Error("run: name an experiment (or `all`); see jenga run --help");
  if (!a.has("profile")) throw Error("run: --profile is required (see configs/profiles/)");

  Profile profile = find_profile(g.root, a.get("profile"));
  if (a.has("memory-cap")) {
    const std::string v = a.get("memory-cap");
    double cap = 0;
    try {
      size_t used = 0;
      cap = std::stod(v, &used);
      if (used != v.size()) cap = 0;
    } catch (const std::exception&) {
      cap = 0;
    }
    if (!(cap > 0)) throw Error("run: --memory-cap expects a number of GiB > 0, got '" + v + "'");
    if (profile.memory_gib > 0 && cap > profile.memory_gib)
      throw Error(fmt::format("run: --memory-cap {} exceeds profile {}'s {} GiB", v, profile.name, profile.memory_gib));
    profile.memory_cap_gib = cap;
    profile.name += "-cap" + v;
  }
  PlanOptions po;
  po.quick = a.has("quick");
  std::vector<PlannedRun> runs;
  std::set<std::string> planned;  // an experiment drawing another's runs (runs_from) plans the same keys
  for (const auto& e : select_experiments(a.positionals(), g.root))
    for (auto& r : expand(e, profile, po))
      if (planned.insert(r.key).second) runs.push_back(std::move(r));

  std::vector<Filter> filters;
  for (const auto& f : a.all("filter")) filters.push_back(parse_filter(f));
  for (const auto& f : filters) {
    bool known = false;
    for (const auto& r : runs) known = known || r.params.contains(f.key);
    if (!known && !runs.empty()) throw Error("run: --filter " + f.key + ": no planned run has that parameter");
    std::vector<PlannedRun> kept;
    for (auto& r : runs)
      if (matches(r.params, f)) kept.push_back(std::move(r));
    runs = std::move(kept);
  }

  SchedulerOptions opt;
  opt.worker = resolve_worker(a.get("worker"), g);
  opt.logs_dir = g.logs;
  opt.repo_root = g.root;
  opt.retries = a.get_int("retry", 0, 0);
  opt.force = a.has("force");
  opt.timeout_s = a.get_double("timeout", 0, 0);
  opt.kill_grace_s = a.get_double("kill-grace", 5, 0);
  opt.progress_tty = ::isatty(STDERR_FILENO) == 1;

  if (a.has("dry-run")) {
    std::vector<Row> rows = {{"key", "experiment", "action", "params"}};
    int to_run = 0;
    for (const auto& r : runs) {
      const std::string note = resume_note(r, g, opt.force);
      to_run += note.rfind("would run", 0) == 0;
      rows.push_back({r.key, r.experiment, note, r.params.dump()});
    }
    std::cout << format_table(rows);
    std::cout << fmt::format("{} runs on profile {}: {} would run, {} would be skipped; worker {}\n", runs.size(),
                             profile.name, to_run, runs.size() - to_run, opt.worker);
    return kExitOk;
  }
  if (runs.empty()) {
    std::cout << "nothing to run (the plan is empty)\n";
    return kExitOk;
  }
  if (::access(opt.worker.c_str(), X_OK) != 0)
    std::cerr << "jenga: warning: worker " << opt.worker << " is not an executable file; its runs will end as error\n";

  std::error_code ec;
  fs::create_directories(fs::path(g.db).parent_path(), ec);
  Store store(g.db);
  std::vector<RunOutcome> out;
  {
    StopSignals signals;
    out = run_all(runs, profile, &store, opt);
  }

  std::map<std::string, int> counts;
  std::vector<Row> failed;
  for (std::size_t i = 0; i < out.size(); ++i) {
    ++counts[out[i].status];
    if (out[i].status != "ok" && out[i].status != "skipped")
      failed.push_back({out[i].status, runs[i].experiment, out[i].key, out[i].message,
                        Progress::display_path(out[i].log_path, g.root)});
  }
  std::string summary;
  for (const auto& [status, n] : counts) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, status);
  std::cout << fmt::format("{} runs on profile {}: {}\n", out.size(), profile.name, summary);
  if (!failed.empty()) std::cout << "not ok:\n" << format_table(failed);
  const bool interrupted = g_signals.load() > 0;
  if (interrupted) std::cout << "interrupted: the next `jenga run` resumes where this one stopped\n";
  return (failed.empty() && !interrupted) ? kExitOk : kExitFailed;
}

}  // namespace jenga::cli
