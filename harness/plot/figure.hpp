// Turning one FigureSpec and its runs into what gnuplot needs: the data text (<id>.dat), the
// script (FigureScript) and the list of runs each mark came from (<id>.sources.txt).
// Internal to the plot module; plot.hpp is the public entry.
#pragma once

#include "harness/plot/grid.hpp"
#include "harness/plot/labels.hpp"
#include "harness/plot/script.hpp"
#include "harness/plot/select.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace jenga::harness {

// One line of <id>.sources.txt: a run behind a bar, point, cell or curve.
struct SourceLine {
  std::string panel, series, x;  // where it shows ("" when the figure has no such dimension)
  std::string status;            // the run's status ("not run" for planned runs without a log)
  std::string value;             // the value drawn, or the mark shown instead
  std::string key, log, note;
};

struct RenderedFigure {
  FigureScript script;
  std::string data;                     // <id>.dat
  std::vector<SourceLine> sources;
  std::vector<std::string> warnings;    // for the person running `jenga plot`
};

// Blocks of a gnuplot data file, addressed by `index` (blocks are separated by two blank lines).
class DataFile {
 public:
  // Starts a block; returns its index. `header` is a comment line, `columns` names the fields.
  int block(const std::string& header, const std::vector<std::string>& columns);
  void row(const std::vector<std::string>& fields);
  std::string text() const;

 private:
  // gnuplot does not count a block without data lines, which would shift every later index:
  // an empty block gets one row of NaN.
  void close_block();
  std::string text_;
  int blocks_ = 0;
  std::size_t columns_ = 0, rows_ = 0;
};

std::string dat_number(const std::optional<double>& v);  // "NaN" when absent: gnuplot skips it
std::string dat_string(const std::string& s);            // quoted, inner quotes replaced

// What every renderer shares: the spec, the runs, naming and the bookkeeping of marks.
class FigureContext {
 public:
  FigureContext(const RunSet& set, const FigureSpec& spec);

  const RunSet& set() const { return set_; }
  const FigureSpec& spec() const { return spec_; }

  std::string panel_title(const Json& facet_value) const;
  std::string series_name(const Json& series_value) const;  // legend text
  std::string x_text(const Json& x_value) const;             // tick text

  // Records a cell's runs in the sources and the run tally; returns the text drawn in its place
  // when it has no value ("OOM", "not run", ...), "" when it has one.
  std::string account(const Cell* cell, const std::string& panel, const std::string& series, const std::string& x);
  void account_run(const RunRow& run, const std::string& panel, const std::string& series, const std::string& x,
                   const std::string& shown_value, const std::string& note);

  // Title, subtitle (hardware), caption (spec caption, marks legend, run tally, file names).
  void finish(RenderedFigure& out, const std::vector<std::string>& extra_caption) const;

  std::vector<SourceLine> sources;
  std::vector<std::string> warnings;

 private:
  const RunSet& set_;
  const FigureSpec& spec_;
  std::map<std::string, std::string> run_status_;   // key -> status of every run drawn from
  std::vector<const RunRow*> drawn_runs_;
  std::set<std::string> marks_shown_;
};

// A mark for a missing value: `set label` text at a bar or point, in a colour saying how bad.
std::string mark_command(const std::string& mark, double x, const std::string& y_at, bool rotate,
                         const std::string& extra = {});

RenderedFigure render_bars(const RunSet& set, const FigureSpec& spec);       // grouped_bars, stacked_bars
RenderedFigure render_lines(const RunSet& set, const FigureSpec& spec);      // lines
RenderedFigure render_heatmap(const RunSet& set, const FigureSpec& spec);    // heatmap
RenderedFigure render_steps(const RunSet& set, const FigureSpec& spec);      // loss_curve, memory_timeline

}  // namespace jenga::harness
