#include "harness/plot/labels.hpp"

#include "harness/plot/select.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>
#include <vector>

namespace jenga::harness {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fabs(b); }

// Unit suffixes of the naming convention, longest first, with their unit at scale 1.
const std::vector<std::pair<std::string, std::string>>& unit_suffixes() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"tokens_per_s", "tokens/s"}, {"_per_s", "/s"}, {"_mib", "MiB"}, {"_gib", "GiB"}, {"_ms", "ms"},
      {"_us", "µs"},                {"_s", "s"},      {"_tflops", "TFLOP/s"}, {"_pct", "%"},
  };
  return s;
}

// The last path segment carrying a unit: "mem_mib.allocated" -> unit from "mem_mib".
std::string unit_at_scale_one(const std::string& name) {
  std::string rest = name;
  while (true) {
    for (const auto& [suffix, unit] : unit_suffixes())
      if (ends_with(rest, suffix) || rest == suffix.substr(1)) return unit;
    const auto dot = rest.rfind('.');
    if (dot == std::string::npos) return "";
    rest = rest.substr(0, dot);
  }
}

std::string scaled_unit(const std::string& unit, double scale) {
  if (near(scale, 1.0)) return unit;
  if (unit == "MiB" && near(scale, 1.0 / 1024)) return "GiB";
  if (unit == "MiB" && near(scale, 1.0 / (1024.0 * 1024))) return "TiB";
  if (unit == "GiB" && near(scale, 1024)) return "MiB";
  if (unit == "ms" && near(scale, 1e-3)) return "s";
  if (unit == "s" && near(scale, 1e3)) return "ms";
  if (unit == "ms" && near(scale, 1e3)) return "µs";
  if (unit == "%" || unit.empty()) return unit;
  return unit + fmt::format(" × {:g}", scale);
}

}  // namespace

std::string humanize(const std::string& name) {
  static const std::map<std::string, std::string> known = {
      {"seq_len", "sequence length"},
      {"step_ms", "step time"},
      {"peak_allocated_mib", "peak allocated memory"},
      {"peak_reserved_mib", "peak reserved memory"},
      {"weights_mib", "weight memory"},
      {"tokens_per_s", "throughput"},
      {"model_tflops", "model throughput"},
      {"mem_mib.allocated", "allocated memory"},
      {"mem_mib.reserved", "reserved memory"},
      {"phase_ms.total", "step time"},
      {"forward_ms", "forward"},
      {"backward_ms", "backward"},
      {"optimizer_ms", "optimizer"},
      {"step", "step"},
      {"t_ms", "time"},
      {"time_ms", "time"},
      {"t_s", "time"},
      {"elapsed_ms", "time"},
      {"context_length", "context length"},
      {"mfu", "MFU"},
      {"ppl", "perplexity"},
      {"lora_rank", "LoRA rank"},
  };
  if (const auto it = known.find(name); it != known.end()) return it->second;
  std::string base = name;
  for (const auto& [suffix, unit] : unit_suffixes()) {
    if (suffix == "tokens_per_s") continue;
    if (ends_with(base, suffix) && base.size() > suffix.size()) {
      base = base.substr(0, base.size() - suffix.size());
      break;
    }
  }
  for (char& c : base)
    if (c == '_' || c == '.') c = ' ';
  return base;
}

std::string unit_of(const std::string& name, double scale, const std::string& metric_unit) {
  if (!metric_unit.empty()) return scaled_unit(metric_unit, scale);
  return scaled_unit(unit_at_scale_one(name), scale);
}

std::string axis_label(const std::string& explicit_label, const std::string& name, double scale,
                       const std::string& metric_unit, const Labels& labels) {
  if (!explicit_label.empty()) return explicit_label;
  const auto it = labels.find(name);
  std::string text = it != labels.end() ? it->second : humanize(name);
  if (name == "seq_len" && it == labels.end()) return text + " (tokens)";
  const std::string unit = unit_of(name, scale, metric_unit);
  if (!unit.empty()) text += " (" + unit + ")";
  return text;
}

std::string value_label(const std::string& key, const Json& value, const Labels& labels) {
  const std::string text = value_text(value);
  if (const auto it = labels.find(text); it != labels.end()) return it->second;
  if (value.is_boolean()) {
    const auto k = labels.find(key);
    return (k != labels.end() ? k->second : humanize(key)) + (value.get<bool>() ? ": yes" : ": no");
  }
  if (value.is_number_integer() && (key == "seq_len" || key.find("len") != std::string::npos)) {
    const auto n = value.get<std::int64_t>();
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) return fmt::format("{}M", n / (1024 * 1024));
    if (n >= 1024 && n % 1024 == 0) return fmt::format("{}K", n / 1024);
  }
  return text;
}

bool higher_is_better(const std::string& name) {
  for (const char* s : {"per_s", "tflops", "mfu", "throughput", "accuracy", "score", "recall"})
    if (name.find(s) != std::string::npos) return true;
  return false;
}

std::string short_number(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1000) return fmt::format("{:.0f}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  if (a >= 1) return fmt::format("{:.2f}", v);
  if (a >= 0.01) return fmt::format("{:.3f}", v);
  return fmt::format("{:.2e}", v);
}

}  // namespace jenga::harness
