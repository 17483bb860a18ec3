#include "harness/report/results_summary.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/yaml_reader.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

namespace jenga::harness {
namespace {

using Point = std::tuple<std::string, std::int64_t, bool>;  // model, seq_len, checkpointing

struct Measured {
  std::optional<double> peak_mib, step_ms;
  std::string status;  // ok, or why there is no number (oom, error, ...)
  std::string ended_at;
  std::int64_t timed_steps = 0;  // steps after warm-up: more of them make a steadier step time
};

std::string gib(const std::optional<double>& mib) { return mib ? fmt::format("{:.2f}", *mib / 1024.0) : "—"; }
std::string sec(const std::optional<double>& ms) { return ms ? fmt::format("{:.3f}", *ms / 1000.0) : "—"; }
std::string ratio(const std::optional<double>& a, const std::optional<double>& b) {
  return a && b && *b > 0 ? fmt::format("{:.2f}", *a / *b) : "—";
}
// A cell for one of our methods: the number, or the status of a run that gave none.
std::string ours(const std::map<std::string, Measured>& m, const std::string& method, bool memory) {
  const auto it = m.find(method);
  if (it == m.end()) return "—";
  const auto& v = memory ? it->second.peak_mib : it->second.step_ms;
  if (v) return memory ? gib(v) : sec(v);
  return it->second.status == "ok" ? "—" : it->second.status;
}

}  // namespace

std::vector<ReferencePoint> load_reference_points(const std::string& path) {
  const yaml::Node root = yaml::load_file(path);
  const yaml::MapReader top(root, "reference file", {"points"});
  const yaml::Node list = top.require("points");
  if (!list.is_list()) list.expected("a list of points");
  std::vector<ReferencePoint> out;
  for (const yaml::Node& n : list.items()) {
    const yaml::MapReader m(n, "reference point", {"source", "model", "method", "seq_len", "checkpointing", "peak_mib", "step_ms", "oom"});
    ReferencePoint p;
    p.source = m.require("source").as_string();
    p.model = m.require("model").as_string();
    p.method = m.require("method").as_string();
    p.seq_len = m.require("seq_len").as_int();
    if (p.seq_len <= 0) m.require("seq_len").expected("a positive length");
    if (auto v = m.get("checkpointing")) p.checkpointing = v->as_bool();
    if (auto v = m.get("peak_mib")) p.peak_mib = v->as_number();
    if (auto v = m.get("step_ms")) p.step_ms = v->as_number();
    if (auto v = m.get("oom")) p.oom = v->as_bool();
    if (!p.peak_mib && !p.step_ms && !p.oom) n.expected("peak_mib, step_ms or oom: true");
    out.push_back(std::move(p));
  }
  return out;
}

void render_results_summary(Store& store, const std::vector<ReferencePoint>& reference, const std::string& profile,
                            std::ostream& out) {
  std::map<Point, std::map<std::string, Measured>> measured;
  std::set<std::string> profiles, gpus;
  RunFilter f;
  f.profile = profile;
  for (const RunRow& r : store.runs(f)) {
    if (r.task != "train-bench" || r.status == "running") continue;
    const auto& p = r.params;
    if (!p.contains("model") || !p.contains("seq_len") || !p["seq_len"].is_number_integer()) continue;
    const Point key{p["model"].get<std::string>(), p["seq_len"].get<std::int64_t>(),
                    p.value("checkpointing", false) || p.value("offload", false)};
    const std::string method = p.value("method", std::string("base"));
    // Runs that time or trace themselves (extra syncs) are not step-time measurements.
    if (p.value("time_selection", false) || p.value("timeline", false)) continue;
    Measured m;
    m.status = r.status;
    m.ended_at = r.ended_at;
    if (r.status == "ok") {
      const Json s = store.summary(r.key);
      if (s.contains("peak_allocated_mib") && s["peak_allocated_mib"].is_number()) m.peak_mib = s["peak_allocated_mib"].get<double>();
      if (s.contains("step_ms") && s["step_ms"].is_number()) m.step_ms = s["step_ms"].get<double>();
    }
    auto& slot = measured[key][method];
    m.timed_steps = p.value("steps", std::int64_t{0}) - p.value("warmup", std::int64_t{0});
    // Among ok runs the one with the most timed steps wins, then the most recent; a failure only
    // fills a cell nothing ok has filled.
    const bool better =
        slot.status.empty() ||
        (m.status == "ok" && (slot.status != "ok" || m.timed_steps > slot.timed_steps ||
                              (m.timed_steps == slot.timed_steps && m.ended_at > slot.ended_at)));
    if (better) slot = m;
    profiles.insert(r.profile);
    if (r.provenance.contains("gpu") && r.provenance["gpu"].is_string()) gpus.insert(r.provenance["gpu"].get<std::string>());
  }
  std::map<Point, std::map<std::string, const ReferencePoint*>> ref;
  for (const auto& p : reference) ref[{p.model, p.seq_len, p.checkpointing}][p.source + "/" + p.method] = &p;
  std::set<Point> points;
  for (const auto& [k, v] : measured) points.insert(k);
  for (const auto& [k, v] : ref) points.insert(k);

  auto list = [](const std::set<std::string>& s) {
    std::string t;
    for (const auto& x : s) t += (t.empty() ? "" : ", ") + x;
    return t.empty() ? std::string("none") : t;
  };
  out << "# Results: our runs beside the paper and the HF+PEFT anchor\n\n"
      << "Generated by `jenga report --results` from results.sqlite (the runs under logs/) and\n"
      << "configs/paper/reference.yaml; do not edit by hand. Ours: profiles " << list(profiles) << "; GPUs "
      << list(gpus) << ".\n"
      << "Paper: the artifact's A800 80 GB logs. HF+PEFT: the anchor on an H100 80 GB. Memory is peak\n"
      << "allocated GiB, time seconds per step; a dash is a number nobody measured.\n\n"
      << "| model | seq | ckpt | ours base GiB | ours jenga GiB | ours base/jenga | paper base GiB | paper jenga GiB "
         "| paper base/jenga | HF+PEFT GiB | HF/ours jenga | ours base s | ours jenga s | ours speedup | paper speedup "
         "| HF+PEFT s |\n"
      << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& pt : points) {
    const auto& [model, seq, ckpt] = pt;
    const auto m = measured.count(pt) ? measured.at(pt) : std::map<std::string, Measured>{};
    const auto r = ref.count(pt) ? ref.at(pt) : std::map<std::string, const ReferencePoint*>{};
    auto get = [&](const std::string& method) -> const Measured* {
      const auto it = m.find(method);
      return it == m.end() ? nullptr : &it->second;
    };
    auto refv = [&](const std::string& k, bool memory) -> std::optional<double> {
      const auto it = r.find(k);
      if (it == r.end()) return std::nullopt;
      return memory ? it->second->peak_mib : it->second->step_ms;
    };
    const Measured* b = get("base");
    const Measured* j = get("jenga");
    const std::optional<double> bm = b ? b->peak_mib : std::nullopt, jm = j ? j->peak_mib : std::nullopt;
    const std::optional<double> bt = b ? b->step_ms : std::nullopt, jt = j ? j->step_ms : std::nullopt;
    const auto hf = r.find("hf-peft-h100/hf-peft");
    const bool hf_oom = hf != r.end() && hf->second->oom;
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", model, seq,
                       ckpt ? "yes" : "no", ours(m, "base", true), ours(m, "jenga", true), ratio(bm, jm),
                       gib(refv("paper-a800/base", true)), gib(refv("paper-a800/jenga", true)),
                       ratio(refv("paper-a800/base", true), refv("paper-a800/jenga", true)),
                       hf_oom ? std::string("OOM") : gib(refv("hf-peft-h100/hf-peft", true)),
                       ratio(refv("hf-peft-h100/hf-peft", true), jm), ours(m, "base", false), ours(m, "jenga", false),
                       ratio(bt, jt), ratio(refv("paper-a800/base", false), refv("paper-a800/jenga", false)),
                       hf_oom ? std::string("OOM") : sec(refv("hf-peft-h100/hf-peft", false)));
  }
}

}  // namespace jenga::harness
