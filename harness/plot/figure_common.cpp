#include "harness/plot/figure.hpp"

#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jenga::harness {

void DataFile::close_block() {
  if (blocks_ == 0 || rows_ > 0) return;
  text_ += "# (no rows)\n";
  for (std::size_t i = 0; i < std::max<std::size_t>(columns_, 1); ++i) text_ += i == 0 ? "NaN" : "\tNaN";
  text_ += "\n";
}

int DataFile::block(const std::string& header, const std::vector<std::string>& columns) {
  close_block();
  if (blocks_ > 0) text_ += "\n\n";
  text_ += "# [" + std::to_string(blocks_) + "] " + header + "\n# ";
  for (std::size_t i = 0; i < columns.size(); ++i) text_ += (i == 0 ? "" : "\t") + columns[i];
  text_ += "\n";
  columns_ = columns.size();
  rows_ = 0;
  return blocks_++;
}

void DataFile::row(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) text_ += (i == 0 ? "" : "\t") + fields[i];
  text_ += "\n";
  ++rows_;
}

std::string DataFile::text() const {
  DataFile copy = *this;
  copy.close_block();
  return copy.text_;
}

std::string dat_number(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "NaN";
  return fmt::format("{:.6g}", *v);
}

std::string dat_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) out += (c == '"' ? '\'' : (c == '\n' || c == '\t') ? ' ' : c);
  return out + "\"";
}

std::string mark_command(const std::string& mark, double x, const std::string& y_at, bool rotate,
                         const std::string& extra) {
  const bool oom = mark == "OOM";
  return fmt::format("set label {} at first {:.4f}, {} {} font \",{}\" tc rgb \"{}\"{}", gp_quote(mark), x, y_at,
                     rotate ? "rotate by 90 left" : "center", oom ? "9.5" : "8.5", oom ? "#B00000" : "#606060",
                     extra.empty() ? "" : " " + extra);
}

FigureContext::FigureContext(const RunSet& set, const FigureSpec& spec) : set_(set), spec_(spec) {}

std::string FigureContext::panel_title(const Json& v) const {
  if (spec_.facet.empty()) return "";
  const std::string text = value_label(spec_.facet, v, spec_.labels);
  if (v.is_string() || spec_.labels.count(value_text(v)) != 0 || v.is_boolean()) return text;
  const auto named = spec_.labels.find(spec_.facet);
  return (named != spec_.labels.end() ? named->second : humanize(spec_.facet)) + " " + text;
}

std::string FigureContext::series_name(const Json& v) const {
  if (spec_.series.empty()) return spec_.y;
  return value_label(spec_.series, v, spec_.labels);
}

std::string FigureContext::x_text(const Json& v) const { return value_label(spec_.x, v, spec_.labels); }

void FigureContext::account_run(const RunRow& run, const std::string& panel, const std::string& series,
                                const std::string& x, const std::string& shown_value, const std::string& note) {
  SourceLine l;
  l.panel = panel;
  l.series = series;
  l.x = x;
  l.status = run.status;
  l.value = shown_value;
  l.key = run.key;
  l.log = run.log_path.empty() ? "(no log)" : run.log_path;
  l.note = note;
  sources.push_back(std::move(l));
  if (run_status_.emplace(run.key, run.status).second) drawn_runs_.push_back(&run);
}

std::string FigureContext::account(const Cell* cell, const std::string& panel, const std::string& series,
                                   const std::string& x) {
  if (cell == nullptr) return "";
  if (cell->status == "ok") {
    for (const CellSource& s : cell->sources) {
      if (s.run->status == "ok" && s.value)
        account_run(*s.run, panel, series, x, short_number(*s.value * spec_.y_scale), cell->note);
      else
        account_run(*s.run, panel, series, x, "(not drawn)", "another run gives this point");
    }
    return "";
  }
  const std::string mark = cell_mark(cell->status);
  for (const CellSource& s : cell->sources) account_run(*s.run, panel, series, x, mark, cell->note);
  marks_shown_.insert(cell->status);
  return mark;
}

void FigureContext::finish(RenderedFigure& out, const std::vector<std::string>& extra_caption) const {
  FigureScript& f = out.script;
  f.id = spec_.id;
  f.title = spec_.title.empty() ? spec_.id : spec_.title;
  std::vector<const RunRow*> measured;
  for (const RunRow* r : drawn_runs_)
    if (!r->provenance.empty()) measured.push_back(r);
  std::string hw = set_.hardware(measured);
  f.subtitle = (hw.empty() ? std::string("hardware not recorded") : hw) + "  ·  experiment " + set_.experiment().name;
  std::string paper = spec_.paper;
  if (paper.empty())
    for (const std::string& p : set_.experiment().paper) paper += (paper.empty() ? "" : ", ") + p;
  if (!paper.empty()) f.subtitle += "  ·  paper: " + paper;

  if (!spec_.caption.empty()) f.caption.push_back(spec_.caption);
  for (const std::string& c : extra_caption) f.caption.push_back(c);
  std::string marks;
  auto add_mark = [&](const std::string& s) { marks += (marks.empty() ? "" : "; ") + s; };
  if (marks_shown_.count("oom") != 0) add_mark("OOM = the run ran out of GPU memory");
  if (marks_shown_.count(kNotRun) != 0) add_mark("not run = planned, no log yet");
  if (marks_shown_.count("no value") != 0) add_mark("no data = the run ended ok but logged no such value");
  if (marks_shown_.count("ambiguous") != 0) add_mark("ambiguous = several different runs map to one point");
  bool other = false;
  for (const std::string& m : marks_shown_)
    if (m != "oom" && m != kNotRun && m != "no value" && m != "ambiguous") other = true;
  if (other) add_mark("other marks name how the run ended");
  if (!marks.empty()) f.caption.push_back("Missing values are never drawn as zero: " + marks + ".");

  std::map<std::string, int> tally;
  for (const auto& [key, status] : run_status_) ++tally[status];
  std::string runs;
  auto add_count = [&](const std::string& status, const std::string& text) {
    const auto it = tally.find(status);
    if (it == tally.end()) return;
    runs += (runs.empty() ? "" : ", ") + fmt::format("{} {}", it->second, text);
    tally.erase(it);
  };
  add_count("ok", "ok");
  add_count("oom", "OOM");
  add_count(kNotRun, "not run");
  for (const auto& [status, count] : tally) runs += (runs.empty() ? "" : ", ") + fmt::format("{} {}", count, status);
  if (runs.empty()) runs = "none logged";
  f.caption.push_back(fmt::format("Runs: {}. Data: {}.dat; each run and its log file: {}.sources.txt.", runs,
                                  spec_.id, spec_.id));
  out.sources = sources;
  out.warnings = warnings;
}

}  // namespace jenga::harness
