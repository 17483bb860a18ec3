// `jenga status` over a big index: 10,000 runs in 25 experiments (built untimed), then times
// opening the store and rendering the status table (with the list of runs not ok), as the
// CLI does. Target: under 0.5 s.
//   bench_status_10k [runs=10000]
#include "harness/report/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using namespace jenga::harness;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int n_runs = argc > 1 ? std::atoi(argv[1]) : 10000;
  const fs::path root = fs::temp_directory_path() / ("jenga-bench-status-" + std::to_string(std::random_device{}()));
  fs::create_directories(root);
  const std::string db = (root / "results.sqlite").string();
  int rc = 0;
  try {
    auto t0 = std::chrono::steady_clock::now();
    {
      Store store(db);
      std::mt19937 rng(11);
      const char* statuses[] = {"ok", "ok", "ok", "ok", "ok", "ok", "oom", "crashed", "timeout", "error"};
      std::vector<RunRecords> batch;
      for (int i = 0; i < n_runs; ++i) {
        RunRecords r;
        char key[17];
        std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(rng()) * 2654435761ull + i);
        r.run.key = key;
        r.run.experiment = "fig" + std::to_string(i % 25) + "-sweep";
        r.run.profile = i % 3 ? "h100" : "a40";
        r.run.task = "train-bench";
        r.run.params = {{"model", i % 2 ? "llama2-7b" : "opt-1.3b"}, {"seq_len", 1024 << (i % 6)}, {"method", i % 4 ? "jenga" : "lora"}, {"seed", i}};
        r.run.status = statuses[rng() % 10];
        if (r.run.status != "ok") r.run.message = "run " + std::to_string(i) + " failed: CUDA out of memory. Tried to allocate 2.00 GiB";
        r.run.started_at = "2026-01-01T00:00:00Z";
        r.run.log_path = "logs/" + r.run.experiment + "/" + key + ".jsonl";
        r.run.provenance = {{"gpu", "NVIDIA H100 80GB HBM3"}, {"commit", "0123abcd"}, {"torch", "2.11.0"}, {"host", "node7"}, {"driver", "570.86"}};
        r.summary = {{"peak_allocated_mib", 1000.0 + i}, {"step_ms", 10.0 + i % 100}, {"tokens_per_s", 5000.0}};
        batch.push_back(std::move(r));
        if (batch.size() == 1000) {
          store.replace_runs(batch);
          batch.clear();
        }
      }
      store.replace_runs(batch);
    }
    std::printf("built index of %d runs in %.2f s (not timed below)\n", n_runs, seconds_since(t0));

    std::vector<double> times;
    std::size_t bytes = 0;
    for (int rep = 0; rep < 5; ++rep) {
      t0 = std::chrono::steady_clock::now();
      Store store(db);
      StatusOptions opt;
      opt.list_not_ok = true;
      std::ostringstream out;
      render_status_table(store, out, opt);
      times.push_back(seconds_since(t0));
      bytes = out.str().size();
      if (rep == 0) std::printf("%s\n", out.str().substr(0, out.str().find("runs not ok")).c_str());
    }
    std::sort(times.begin(), times.end());
    std::printf("status (open + count + list 50 not-ok runs, %zu bytes of output): min %.4f s, median %.4f s, max %.4f s\n",
                bytes, times.front(), times[times.size() / 2], times.back());

    t0 = std::chrono::steady_clock::now();
    {
      Store store(db);
      std::ostringstream out;
      render_report(store, "fig3-sweep", out);
    }
    std::printf("report of one experiment (%d runs): %.4f s\n", n_runs / 25, seconds_since(t0));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    rc = 1;
  }
  fs::remove_all(root);
  return rc;
}
