// Ingest throughput: writes 1,000,000 realistic step records across 100 logs in a temp dir,
// then times ingest_tree into a fresh index (open + ingest + close), and a second ingest that
// finds every file unchanged. Target: the first under 5 s on the 2-core dev machine.
//   bench_ingest_steps [files=100] [steps_per_file=10000] [keep-dir]
#include "harness/ingest/ingest.hpp"

#include <jenga/protocol/record.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace fs = std::filesystem;
namespace proto = jenga::protocol;
using jenga::harness::Json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds (user + system, all threads) of this process: less at the mercy of whatever
// else the shared machine runs than wall time.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// One run's log as the harness tee writes it: run, start, steps, summary, end, exit.
std::uintmax_t write_log(const fs::path& path, int file, int steps, std::mt19937& rng) {
  std::normal_distribution<double> jitter(0.0, 1.0);
  std::ofstream out(path, std::ios::binary);
  const Json params = {{"model", "llama2-7b"}, {"seq_len", 4096 << (file % 4)}, {"method", file % 2 ? "jenga" : "lora"}, {"seed", file}};
  const std::string key = "bench" + std::to_string(1000000 + file);
  out << proto::make_run("bench-ingest", "h100", key, "train-bench", params, Json::array({"jenga-worker", "train-bench"}), 1,
                         "2026-01-01T00:00:00Z")
             .dump()
      << "\n";
  out << proto::make_start("train-bench", params,
                           {{"gpu", "NVIDIA H100 80GB HBM3"}, {"commit", "0123abcd"}, {"torch", "2.11.0"}, {"host", "node7"},
                            {"driver", "570.86"}, {"cuda_runtime", "13.0"}})
             .dump()
      << "\n";
  out << "loading model from /models/llama2-7b (free text the worker printed)\n";
  double loss = 10.0;
  for (int s = 0; s < steps; ++s) {
    loss = loss * 0.9995 + 0.001 * jitter(rng);
    const double fwd = 180.0 + 5 * jitter(rng), bwd = 2.1 * fwd + 3 * jitter(rng);
    const Json phase = {{"forward", fwd}, {"backward", bwd}, {"optimizer", 12.5 + jitter(rng)}, {"data", 0.8 + 0.1 * jitter(rng)}};
    const Json mem = {{"allocated", 20480.0 + 10 * jitter(rng)}, {"peak_allocated", 41000.0 + 50 * jitter(rng)},
                      {"reserved", 45056.0}, {"peak_reserved", 46080.0}};
    out << proto::make_step(s, phase, mem, {{"loss", loss}, {"lr", 2e-5}, {"kept_fraction", 0.42 + 0.01 * jitter(rng)}, {"tokens", 4096}})
               .dump()
        << "\n";
  }
  out << proto::make_summary({{"peak_allocated_mib", 41234.5}, {"step_ms_median", 600.25}, {"tokens_per_s", 6800.0}}).dump() << "\n";
  out << proto::make_end(proto::Status::Ok).dump() << "\n";
  out << proto::make_exit(proto::Status::Ok, 0, nullptr, 3600.0, "2026-01-01T01:00:00Z").dump() << "\n";
  out.close();
  return fs::file_size(path);
}

}  // namespace

int main(int argc, char** argv) {
  const int files = argc > 1 ? std::atoi(argv[1]) : 100;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 10000;
  const bool keep = argc > 3;
  const fs::path root = fs::temp_directory_path() / ("jenga-bench-ingest-" + std::to_string(std::random_device{}()));
  const fs::path logs = root / "logs" / "bench-ingest";
  fs::create_directories(logs);

  std::mt19937 rng(7);
  std::uintmax_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int f = 0; f < files; ++f) bytes += write_log(logs / ("run" + std::to_string(f) + ".jsonl"), f, steps, rng);
  std::printf("wrote %d logs, %lld step records, %.1f MiB in %.2f s (not timed below)\n", files,
              static_cast<long long>(files) * steps, bytes / 1048576.0, seconds_since(t0));

  const std::string db = (root / "results.sqlite").string();
  int rc = 0;
  try {
    t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    {
      jenga::harness::Store store(db);
      const auto st = jenga::harness::ingest_tree(store, (root / "logs").string(), root.string());
      if (st.files_ingested != files || !st.problems.empty()) {
        std::fprintf(stderr, "unexpected: %d ingested, %zu problems\n", st.files_ingested, st.problems.size());
        rc = 1;
      }
    }
    const double first = seconds_since(t0);
    std::printf("first ingest (fresh db, open+ingest+close): %.3f s wall (%.3f s cpu)  = %.0f steps/s\n", first,
                cpu_seconds() - c0, files * steps / first);

    t0 = std::chrono::steady_clock::now();
    {
      jenga::harness::Store store(db);
      const auto st = jenga::harness::ingest_tree(store, (root / "logs").string(), root.string());
      if (st.files_skipped != files) {
        std::fprintf(stderr, "unexpected: %d skipped\n", st.files_skipped);
        rc = 1;
      }
    }
    std::printf("second ingest (all unchanged, skipped): %.3f s\n", seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    c0 = cpu_seconds();
    {
      jenga::harness::Store store(db);
      jenga::harness::ingest_tree(store, (root / "logs").string(), root.string(), /*force=*/true);
    }
    std::printf("forced re-ingest (replace every run): %.3f s wall (%.3f s cpu)\n", seconds_since(t0), cpu_seconds() - c0);
    std::printf("db size: %.1f MiB\n", fs::file_size(db) / 1048576.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    rc = 1;
  }
  if (!keep) fs::remove_all(root);
  else std::printf("kept %s\n", root.c_str());
  return rc;
}
