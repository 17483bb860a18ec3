#include "harness/report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace jenga::harness {

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-4) return fmt::format("{:.4g}", v);
  return fmt::format("{:.6g}", v);
}

namespace {

// A parameter value in a cell: strings bare, everything else as JSON.
std::string param_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Which summary values a reader looks for first: peak memory, then step time, throughput,
// then quality figures, then the rest alphabetically.
int summary_rank(const std::string& name) {
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("peak")) return 0;
  if (has("mem") || has("mib") || has("gib")) return 1;
  if (has("step") && (has("ms") || has("time") || has("_s"))) return 2;
  if (has("_ms") || has("time") || has("per_s") || has("throughput")) return 3;
  if (has("loss") || has("ppl") || has("acc") || has("score")) return 4;
  return 5;
}

std::vector<std::string> pick_summary_columns(const std::set<std::string>& present, const ReportOptions& opt,
                                              std::vector<std::string>& left_out) {
  if (!opt.summary_columns.empty()) return opt.summary_columns;
  std::vector<std::string> names(present.begin(), present.end());
  std::stable_sort(names.begin(), names.end(),
                   [](const std::string& a, const std::string& b) { return summary_rank(a) < summary_rank(b); });
  if (names.size() > opt.max_summary_columns) {
    left_out.assign(names.begin() + static_cast<long>(opt.max_summary_columns), names.end());
    names.resize(opt.max_summary_columns);
  }
  return names;
}

}  // namespace

void render_report(Store& store, const std::string& experiment, std::ostream& out, const ReportOptions& opt) {
  std::vector<RunRow> runs = store.runs(experiment);
  const bool md = opt.format == TableFormat::Markdown;
  if (runs.empty()) {
    out << "no runs of experiment " << experiment << " in the index\n";
    return;
  }
  std::map<std::string, std::map<std::string, double>> summary;  // key -> name -> value
  std::set<std::string> summary_names;
  for (const auto& [key, name, value] : store.summary_values(experiment)) {
    summary[key][name] = value;
    summary_names.insert(name);
  }

  // Parameters: those whose value differs somewhere (absent counts as a value) get columns.
  std::set<std::string> param_names;
  for (const auto& r : runs)
    if (r.params.is_object())
      for (auto it = r.params.begin(); it != r.params.end(); ++it) param_names.insert(it.key());
  auto param_of = [](const RunRow& r, const std::string& name) -> const Json* {
    if (!r.params.is_object()) return nullptr;
    const auto it = r.params.find(name);
    return it == r.params.end() ? nullptr : &*it;
  };
  std::vector<std::string> varying;
  Json fixed = Json::object();
  for (const auto& name : param_names) {
    const Json* first = param_of(runs.front(), name);
    bool varies = false;
    for (const auto& r : runs) {
      const Json* v = param_of(r, name);
      if ((v == nullptr) != (first == nullptr) || (v && *v != *first)) {
        varies = true;
        break;
      }
    }
    if (varies) varying.push_back(name);
    else fixed[name] = *first;
  }
  // Rows ordered by the varying parameters (numbers numerically), then key.
  std::sort(runs.begin(), runs.end(), [&](const RunRow& a, const RunRow& b) {
    for (const auto& name : varying) {
      const Json* x = param_of(a, name);
      const Json* y = param_of(b, name);
      if (!x || !y) {
        if (x != y) return x == nullptr;  // absent first
        continue;
      }
      if (*x != *y) return *x < *y;
    }
    return a.key < b.key;
  });

  std::vector<std::string> left_out;
  const std::vector<std::string> columns = pick_summary_columns(summary_names, opt, left_out);
  const bool any_message =
      std::any_of(runs.begin(), runs.end(), [](const RunRow& r) { return r.status != "ok" && !r.message.empty(); });

  std::map<std::string, int> by_status;
  for (const auto& r : runs) ++by_status[r.status];
  std::vector<std::pair<std::string, int>> counts(by_status.begin(), by_status.end());
  std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return status_rank(a.first) < status_rank(b.first); });
  std::string status_line;
  for (const auto& [s, n] : counts) status_line += (status_line.empty() ? "" : ", ") + std::to_string(n) + " " + s;

  out << (md ? "## " : "") << "experiment " << experiment << ": " << runs.size() << " run" << (runs.size() == 1 ? "" : "s")
      << " (" << status_line << ")\n";
  if (!fixed.empty()) {
    std::string text;
    for (auto it = fixed.begin(); it != fixed.end(); ++it)
      text += (text.empty() ? "" : ", ") + it.key() + "=" + param_text(it.value());
    out << (md ? "\n" : "") << "fixed: " << text << '\n';
  }
  out << '\n';

  TextTable t;
  t.header.push_back("run");
  t.right.push_back(false);
  for (const auto& p : varying) {
    t.header.push_back(p);
    bool numeric = true;
    for (const auto& r : runs) {
      const Json* v = param_of(r, p);
      if (v && !v->is_number()) numeric = false;
    }
    t.right.push_back(numeric);
  }
  t.header.push_back("status");
  t.right.push_back(false);
  for (const auto& c : columns) {
    t.header.push_back(c);
    t.right.push_back(true);
  }
  if (any_message) {
    t.header.push_back("message");
    t.right.push_back(false);
  }
  for (const auto& r : runs) {
    std::vector<std::string> row{r.key};
    for (const auto& p : varying) {
      const Json* v = param_of(r, p);
      row.push_back(v ? one_line(param_text(*v), 40) : "-");
    }
    row.push_back(r.status);
    const auto s = summary.find(r.key);
    for (const auto& c : columns) {
      if (s == summary.end()) {
        row.push_back("-");
        continue;
      }
      const auto v = s->second.find(c);
      row.push_back(v == s->second.end() ? "-" : format_value(v->second));
    }
    if (any_message) row.push_back(r.status == "ok" ? "" : one_line(r.message, 60));
    t.rows.push_back(std::move(row));
  }
  t.write(out, opt.format);

  if (!left_out.empty()) {
    std::string names;
    for (const auto& n : left_out) names += (names.empty() ? "" : ", ") + n;
    out << '\n' << "(" << left_out.size() << " more summary value" << (left_out.size() == 1 ? "" : "s") << ": " << names << ")\n";
  }
}

void render_report_markdown(Store& store, const std::string& experiment, std::ostream& out) {
  ReportOptions opt;
  opt.format = TableFormat::Markdown;
  render_report(store, experiment, out, opt);
}

}  // namespace jenga::harness
