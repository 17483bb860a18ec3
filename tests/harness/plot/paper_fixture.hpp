// A small stand-in for the paper's experiments, written into a directory as `jenga run` would
// leave it: configs/profiles/, experiments/*.yaml, logs/<experiment>/<run-key>.jsonl (harness
// `run`/`exit` records around worker output with provenance naming an H100). Numbers are made up
// but shaped like the real thing; run keys come from the planner, so "never run" is detectable.
//
// Outcomes worth drawing: base OOMs at 32K (both models); llama3-8b/longlora/16K errors;
// llama2-7b/longlora/32K crashes (SIGKILL, no end record); llama3-8b/jenga/32K is never run;
// predictor "lowrank" diverges; NIAH at 32K OOMs under a 48 GiB cap; LongBench's longlora OOMs;
// perplexity base/proof_pile is never run and one jenga metric is null.
// Shared by tests/harness/plot, tests/harness/table and the RUNME-a end-to-end test.
#pragma once

#include "harness/plan/plan.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/spec/profile.hpp"

#include <jenga/protocol/record.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace jenga::harness::test {

namespace fixture_detail {

namespace proto = jenga::protocol;
namespace fs = std::filesystem;

inline void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

inline const char* kProfiles[][2] = {
    {"h100",
     "description: NVIDIA H100 80GB HBM3 (fixture)\ngpu_pattern: \"H100\"\nmemory_gib: 80\ngpus: 1\n"
     "slots_per_gpu: 1\ntimeout_s: 480\nsizes:\n  lengths: [4096, 8192, 16384, 32768]\n"},
    {"a40cap",
     "description: an H100 capped at 48 GiB standing in for an A40 (fixture)\ngpu_pattern: \"H100\"\n"
     "memory_gib: 80\nmemory_cap_gib: 48\ngpus: 1\nslots_per_gpu: 1\ntimeout_s: 480\n"
     "sizes:\n  lengths: [4096, 8192, 16384, 32768]\n"},
};

// Experiment files. `extras` adds what only the plotter's newer spec keys can say.
inline std::map<std::string, std::string> experiment_files(bool extras) {
  std::map<std::string, std::string> f;
  f["fig-e2e"] = R"(name: fig-e2e
paper: ["Fig 12", "Fig 13", "Fig 14"]
description: end-to-end LoRA fine-tuning memory and time, base vs LongLoRA vs Jenga
task: train-bench
matrix:
  fixed: {batch_size: 1, lora_rank: 8, steps: 4, warmup_steps: 1}
  sweep:
    model: [llama2-7b, llama3-8b]
    method: [base, longlora, jenga]
    seq_len: $lengths
figures:
  - id: e2e-memory
    group: end2end
    type: grouped_bars
    title: Peak memory of LoRA fine-tuning
    x: seq_len
    y: peak_allocated_mib
    y_scale: 0.0009765625
    series: method
    facet: model
    baseline: base
    annotate: reduction
@@paper: Fig 12
  - id: e2e-time
    group: end2end
    type: grouped_bars
    title: Time per training step, Llama-2-7B
    x: seq_len
    y: step_ms
    y_scale: 0.001
    series: method
    filter: {model: llama2-7b}
    baseline: base
    annotate: speedup
@@paper: Fig 13
  - id: e2e-throughput
    group: end2end
    type: lines
    title: Training throughput over sequence length
    x: seq_len
    y: tokens_per_s
    series: method
    facet: model
    log_x: true
@@paper: Fig 13 (throughput)
  - id: time-breakdown
    group: ablations
    type: stacked_bars
    title: Step time breakdown, Llama-2-7B
    x: seq_len
    stack: [forward_ms, backward_ms, optimizer_ms]
    series: method
    filter: {model: llama2-7b}
    y_label: time per step (ms)
@@paper: Fig 14 (lower)
)";
  if (extras)
    f["fig-e2e"] += R"(    labels: {forward_ms: forward, backward_ms: backward, optimizer_ms: optimizer step}
    caption: Medians of the steps after warm-up; one bar per method, stacked by phase.
tables:
  - id: summary-memory-time
    title: Memory reduction and speedup over base
    paper: Fig 12-13 (summary)
    type: vs_baseline
    rows: [model, seq_len]
    columns: method
    baseline: base
    ratios:
      - {value: peak_allocated_mib, label: memory reduction, unit: GiB, scale: 0.0009765625, format: "{:.1f}"}
      - {value: step_ms, label: speedup, format: "{:.0f}"}
)";
  f["fig-predictor"] = R"(name: fig-predictor
paper: ["Fig 16"]
description: predictor training loss
task: predictor-train
matrix:
  fixed: {model: llama2-7b, steps: 200, seq_len: 4096}
  sweep:
    predictor: [linear, mlp, lowrank]
figures:
  - id: predictor-loss
    group: ablations
    type: loss_curve
    title: Predictor training loss
    y: loss
    series: predictor
@@paper: Fig 16
)";
  f["fig-segment"] = R"(name: fig-segment
paper: ["Fig 18"]
description: allocated memory during one training step, dense vs segmented LM-head loss
task: memory-trace
matrix:
  fixed: {model: llama2-7b, seq_len: 16384, method: jenga}
  sweep:
    loss: [dense, segmented]
figures:
  - id: segment-timeline
    group: ablations
    type: memory_timeline
    title: Allocated memory over one training step
    x: t_ms
    y: mem_mib.allocated
    y_scale: 0.0009765625
    series: loss
@@paper: Fig 18
)";
  if (extras)
    f["fig-segment"] += R"(    x_scale: 0.001
    labels: {dense: without segment, segmented: with segment}
)";
  f["fig-niah"] = R"(name: fig-niah
paper: ["Fig 20"]
description: needle in a haystack, Jenga fine-tuned Llama-2-7B
task: niah
matrix:
  fixed: {model: llama2-7b, method: jenga}
  sweep:
    context_length: $lengths
figures:
  - id: niah-heatmap
    group: extension
    type: heatmap
    title: Needle retrieval accuracy
    x: context_length
    y: accuracy
    series: depth
    x_label: context length (tokens)
@@paper: Fig 20
)";
  if (extras) f["fig-niah"] += "    labels: {depth: needle depth (% of context)}\n";
  f["tab-longbench"] = R"(name: tab-longbench
paper: ["Table 6"]
description: LongBench per task
task: longbench
matrix:
  fixed: {model: llama2-7b, seq_len: 16384}
  sweep:
    method: [base, longlora, jenga]
tables:
  - id: table6-longbench
    title: LongBench scores per task
    rows: task
    columns: method
    value: score
    format: "{:.1f}"
@@paper: Table 6
)";
  f["tab-perplexity"] = R"(name: tab-perplexity
paper: ["Table 7"]
description: perplexity per dataset and evaluation length
task: ppl
matrix:
  fixed: {model: llama2-7b}
  sweep:
    method: [base, longlora, jenga]
    dataset: [pg19, proof_pile]
)";
  if (extras)
    f["tab-perplexity"] += R"(tables:
  - id: table7-perplexity
    title: Perplexity
    rows: [dataset, seq_len]
    columns: method
    value: ppl
    format: "{:.2f}"
    paper: Table 7
)";
  // "@@key: value" lines: kept as "    key: value" with extras, dropped without.
  for (auto& [name, text] : f) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos + 1);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.rfind("@@", 0) == 0) {
        if (extras) out += "    " + line.substr(2);
      } else {
        out += line;
      }
    }
    text = out;
  }
  return f;
}

// Worker output of one run, shaped like jenga-worker's. Returns "" for a run never run.
class RunWriter {
 public:
  RunWriter(const PlannedRun& run, const std::string& task) : run_(run), task_(task) {}

  void start() {
    const proto::Json prov = {{"commit", "4f2a9c1e"},       {"torch", "2.5.1"},       {"cuda_runtime", "12.4"},
                              {"driver", "550.54.15"},      {"gpu", "NVIDIA H100 80GB HBM3"},
                              {"gpu_memory_mib", 81079.0},  {"gpu_sm", "9.0"},        {"gpu_count", 1},
                              {"host", "gpu-node-07"},      {"device", "cuda:0"},     {"cuda_available", true},
                              {"time", "2026-11-20T10:00:01.000Z"}, {"run_key", run_.key}};
    rec(proto::make_start(task_, run_.params, prov));
  }
  void rec(const proto::Json& j) { text_ += j.dump() + "\n"; }
  void text(const std::string& line) { text_ += line + "\n"; }
  void end_ok(double seconds) {
    rec(proto::make_end(proto::Status::Ok));
    rec(proto::make_exit(proto::Status::Ok, 0, nullptr, seconds, "2026-11-20T10:05:00Z"));
  }
  void end(proto::Status s, const std::string& msg, double seconds, int code = 1) {
    rec(proto::make_end(s, msg));
    rec(proto::make_exit(s, code, nullptr, seconds, "2026-11-20T10:05:00Z", msg));
  }
  std::string finish() const {
    const proto::Json argv = {"jenga-worker", task_, "--params", run_.params.dump(), "--run-key", run_.key};
    return proto::make_run(run_.experiment, run_.profile, run_.key, task_, run_.params, argv, 1,
                           "2026-11-20T10:00:00Z")
               .dump() +
           "\n" + text_;
  }

 private:
  const PlannedRun& run_;
  std::string task_;
  std::string text_;
};

inline double method_factor(const std::string& m, double base, double longlora, double jenga) {
  return m == "base" ? base : m == "longlora" ? longlora : jenga;
}

inline std::string train_bench_log(const PlannedRun& r) {
  RunWriter w(r, "train-bench");
  const std::string model = r.params["model"], method = r.params["method"];
  const double S = r.params["seq_len"].get<double>();
  if (model == "llama3-8b" && method == "jenga" && S == 32768) return "";  // never run
  w.start();
  const double weights = model == "llama2-7b" ? 13100 : 15500;
  const double act_per_tok = method_factor(method, 2.2, 1.30, 0.95) * (model == "llama2-7b" ? 1.0 : 1.12);
  const double peak = weights + act_per_tok * S;
  const double k = method_factor(method, 1.0, 0.86, 0.71) * (model == "llama2-7b" ? 1.0 : 1.1);
  const double fwd = k * (0.052 * S + 1.1e-6 * S * S), bwd = 2.05 * fwd, opt = 9.5;
  if (model == "llama2-7b" && method == "longlora" && S == 32768) {
    w.rec(proto::make_step(0, {{"forward", fwd}, {"backward", bwd}, {"optimizer", opt}}, {{"allocated", peak * 0.7}}));
    // SIGKILL from outside (e.g. the node's OOM killer): no end record, the harness notes it.
    w.rec(proto::make_exit(proto::Status::Crashed, nullptr, 9, 41.0, "2026-11-20T10:00:41Z", "killed by signal 9"));
    return w.finish();
  }
  if (peak > 80 * 1024) {
    w.text("[stderr] torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 8.00 GiB. GPU 0 has a total "
           "capacity of 79.19 GiB");
    w.end(proto::Status::Oom, "CUDA out of memory (tried to allocate 8.00 GiB)", 18.0);
    return w.finish();
  }
  if (model == "llama3-8b" && method == "longlora" && S == 16384) {
    w.text("[stderr] RuntimeError: CUDA error: an illegal memory access was encountered");
    w.end(proto::Status::Error, "CUDA error: an illegal memory access was encountered", 7.5);
    return w.finish();
  }
  for (int i = 0; i < 4; ++i) {
    const double j = 1.0 + 0.01 * ((i * 7) % 3);  // a little jitter, deterministic
    w.rec(proto::make_step(i, {{"forward", fwd * j}, {"backward", bwd * j}, {"optimizer", opt}, {"total", (fwd + bwd) * j + opt}},
                           {{"allocated", weights + 40}, {"peak_allocated", peak}, {"reserved", peak + 512}, {"peak_reserved", peak + 900}},
                           {{"loss", 2.4 - 0.05 * i}, {"warmup", i < 1}, {"tokens", S}}));
  }
  const double step = fwd + bwd + opt;
  w.rec(proto::make_summary({{"peak_allocated_mib", peak}, {"peak_reserved_mib", peak + 900}, {"weights_mib", weights},
                             {"step_ms", step}, {"forward_ms", fwd}, {"backward_ms", bwd}, {"optimizer_ms", opt},
                             {"tokens_per_s", 1000.0 * S / step}, {"final_loss", 2.25}}));
  w.end_ok(step * 4 / 1000 + 20);
  return w.finish();
}

inline std::string predictor_log(const PlannedRun& r) {
  RunWriter w(r, "predictor-train");
  w.start();
  const std::string p = r.params["predictor"];
  const double floor = p == "linear" ? 0.42 : p == "mlp" ? 0.25 : 0.3;
  for (int i = 0; i < 200; ++i) {
    double loss = floor + 1.9 * std::exp(-i / (p == "linear" ? 25.0 : 45.0)) + 0.02 * std::sin(i * 1.7);
    if (p == "lowrank" && i > 110) loss += 0.004 * (i - 110) * (i - 110);
    w.rec(proto::make_step(i, {{"forward", 3.1}, {"backward", 6.0}}, {{"allocated", 14200.0}}, {{"loss", loss}}));
    if (p == "lowrank" && i == 150) {
      w.end(proto::Status::Diverged, "loss above 10x its minimum for 20 steps", 30.0);
      return w.finish();
    }
  }
  w.rec(proto::make_summary({{"final_loss", floor}}));
  w.end_ok(40);
  return w.finish();
}

inline std::string segment_log(const PlannedRun& r) {
  RunWriter w(r, "memory-trace");
  w.start();
  const bool dense = r.params["loss"] == "dense";
  const double weights = 13100, act = 9000, logits = dense ? 16384.0 * 32000 * 4 / (1 << 20) : 2048.0 * 32000 * 4 / (1 << 20);
  double peak = 0;
  for (int i = 0; i <= 120; ++i) {
    const double t = i * 25.0;  // ms
    double a;
    if (i <= 50)
      a = weights + act * i / 50.0;  // forward: activations pile up
    else if (i <= 60)
      a = weights + act + logits * (dense ? 2.0 : 1.0) * std::sin((i - 50) / 10.0 * 3.14159265);  // LM head + loss
    else
      a = weights + act * (120 - i) / 60.0;  // backward frees them
    peak = std::max(peak, a);
    w.rec(proto::make_step(i, proto::Json::object(), {{"allocated", a}}, {{"t_ms", t}}));
  }
  w.rec(proto::make_summary({{"peak_allocated_mib", peak}}));
  w.end_ok(12);
  return w.finish();
}

inline std::string niah_log(const PlannedRun& r) {
  RunWriter w(r, "niah");
  w.start();
  const double L = r.params["context_length"].get<double>();
  if (L >= 32768) {
    w.text("[stderr] torch.OutOfMemoryError: CUDA out of memory (memory cap 48 GiB)");
    w.end(proto::Status::Oom, "CUDA out of memory under the 48 GiB cap", 20);
    return w.finish();
  }
  for (int d = 0; d <= 100; d += 25) {
    const double acc = std::max(0.0, std::min(1.0, 1.0 - (L / 16384.0) * 0.18 * (d == 50 ? 1.6 : 1.0) + 0.02 * (d / 25)));
    w.rec(proto::make_metric("accuracy", std::round(acc * 100) / 100, "fraction", {{"depth", d}}));
  }
  w.end_ok(90);
  return w.finish();
}

inline std::string longbench_log(const PlannedRun& r) {
  RunWriter w(r, "longbench");
  w.start();
  const std::string m = r.params["method"];
  if (m == "longlora") {
    w.end(proto::Status::Oom, "CUDA out of memory during prefill of a 16K prompt", 60);
    return w.finish();
  }
  const std::vector<std::pair<std::string, double>> tasks = {
      {"narrativeqa", 18.7}, {"qasper", 19.2}, {"multifieldqa_en", 36.8}, {"hotpotqa", 25.4}, {"gov_report", 27.3}, {"trec", 61.5}};
  for (const auto& [t, s] : tasks)
    w.rec(proto::make_metric("score", m == "base" ? s : s + 0.9, t == "trec" ? "accuracy %" : "F1/ROUGE %", {{"task", t}}));
  w.end_ok(600);
  return w.finish();
}

inline std::string ppl_log(const PlannedRun& r) {
  const std::string m = r.params["method"], ds = r.params["dataset"];
  if (m == "base" && ds == "proof_pile") return "";  // never run
  RunWriter w(r, "ppl");
  w.start();
  for (const int L : {4096, 8192, 16384}) {
    const double base = ds == "pg19" ? 7.9 : 3.1;
    const double v = base * method_factor(m, 1.0, 1.012, 1.006) * (1.0 - 0.02 * std::log2(L / 4096.0));
    if (m == "jenga" && ds == "proof_pile" && L == 16384)
      w.rec({{"event", "metric"}, {"name", "ppl"}, {"value", nullptr}, {"unit", ""}, {"tags", {{"seq_len", L}}}});
    else
      w.rec(proto::make_metric("ppl", std::round(v * 1000) / 1000, "", {{"seq_len", L}}));
  }
  w.end_ok(300);
  return w.finish();
}

}  // namespace fixture_detail

struct PaperFixture {
  std::string root;
  int logs_written = 0;
  int runs_planned = 0;
};

// Writes the fixture tree under `root` (created if needed). `extras`: experiment files use the
// plotter's newer spec keys (labels, caption, x_scale, table type/rows lists/ratios).
inline PaperFixture write_paper_fixture(const std::string& root, bool extras) {
  namespace fs = std::filesystem;
  using namespace fixture_detail;
  PaperFixture out;
  out.root = root;
  for (const auto& p : kProfiles) write_text(fs::path(root) / "configs" / "profiles" / (std::string(p[0]) + ".yaml"), p[1]);
  // The experiments as the planner sees them: written without the newer keys (they do not
  // change the matrix), so this works whether or not the spec parser knows those keys yet.
  const auto plain = experiment_files(false);
  const auto files = experiment_files(extras);
  for (const auto& [name, text] : plain) {
    const fs::path path = fs::path(root) / "experiments" / (name + ".yaml");
    write_text(path, text);
    const Experiment exp = load_experiment(path.string());
    const std::string profile_name = name == "fig-niah" ? "a40cap" : "h100";
    const Profile profile = load_profile((fs::path(root) / "configs" / "profiles" / (profile_name + ".yaml")).string());
    for (const PlannedRun& r : expand(exp, profile)) {
      ++out.runs_planned;
      std::string log;
      if (exp.task == "train-bench") log = train_bench_log(r);
      else if (exp.task == "predictor-train") log = predictor_log(r);
      else if (exp.task == "memory-trace") log = segment_log(r);
      else if (exp.task == "niah") log = niah_log(r);
      else if (exp.task == "longbench") log = longbench_log(r);
      else if (exp.task == "ppl") log = ppl_log(r);
      if (log.empty()) continue;
      write_text(fs::path(root) / "logs" / exp.name / (r.key + ".jsonl"), log);
      ++out.logs_written;
    }
    write_text(path, files.at(name));
  }
  return out;
}

}  // namespace jenga::harness::test
