// An experiment (experiments/<name>.yaml): what a worker task runs over which parameter matrix,
// per-profile overrides, a quick variant, and the figures/tables drawn from its results.
#pragma once

#include "harness/spec/param.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jenga::harness {

// A parameter matrix: runs = product(sweep) x fixed, plus `include` rows, minus rows matching
// any `exclude` pattern (a pattern matches when every key it names has an equal value).
struct Matrix {
  ParamSet fixed = Json::object();
  SweepAxes sweep;                 // values may be the string "$size-name" (resolved from the profile)
  std::vector<ParamSet> include;   // extra runs: fixed + the row (row wins)
  std::vector<ParamSet> exclude;   // partial param sets
};

// Changes applied on top of the base matrix: keys in `fixed`/`sweep` replace the base's (a key
// the override fixes stops being swept and vice versa); include/exclude rows are appended.
struct MatrixOverride {
  ParamSet fixed = Json::object();
  SweepAxes sweep;
  std::vector<ParamSet> include;
  std::vector<ParamSet> exclude;
};

// One figure declared by an experiment; drawn by `jenga plot` (issue 3 fills the renderer).
struct FigureSpec {
  std::string id;          // e.g. "fig12-memory-llama"; also the output file stem
  std::string group;       // output_figures/<group>/ (default: experiment name)
  std::string type;        // grouped_bars | lines | stacked_bars | loss_curve | memory_timeline | heatmap
  std::string title;
  std::string x;           // parameter (or "step"/"time") on the x axis
  std::string y;           // summary/metric name on the y axis
  std::vector<std::string> stack;   // stacked_bars: summary names stacked per bar
  std::string series;      // parameter distinguishing series/bars (e.g. "method")
  std::string facet;       // parameter making one panel per value (e.g. "model")
  ParamSet filter = Json::object();  // only runs whose params match
  std::string x_label, y_label;
  double y_scale = 1.0;    // multiply y values (e.g. MiB -> GiB = 1/1024)
  bool log_x = false;
  std::string baseline;    // series value that annotations compare against (speedup/reduction)
  std::string annotate;    // "" | "speedup" | "reduction"
  // Added for the plotter (issue 3); all optional. heatmap: x -> columns, series -> rows, y -> colour.
  std::string paper;       // the paper figure this reproduces, e.g. "Fig 12" ("" = the experiment's list)
  std::string caption;     // a line under the figure (what is measured, how)
  std::map<std::string, std::string> labels;  // display text for a parameter name or value ("true" -> "with segment")
  double x_scale = 1.0;    // multiply x values of step series (e.g. ms -> s = 0.001)
  bool log_y = false;
};

// One quantity of a vs_baseline table: shown per method, plus baseline/method (or method/baseline
// when higher is better) for every method but the baseline.
struct TableRatio {
  std::string value;       // summary/metric name, e.g. peak_allocated_mib
  std::string label;       // ratio column title, e.g. "memory reduction" / "speedup"
  std::string unit;        // of the shown values after `scale`, e.g. "GiB"
  double scale = 1.0;
  std::string format = "{:.1f}";
  bool higher_is_better = false;
};

struct TableSpec {
  std::string id;
  std::string title;
  std::string rows;        // parameter per row
  std::string columns;     // parameter per column
  std::string value;       // summary/metric name in each cell
  ParamSet filter = Json::object();
  std::string format = "{:.2f}";
  // Added for the table writer (issue 3); all optional.
  std::string type = "pivot";          // pivot (cell = value) | vs_baseline (values + ratios vs `baseline`)
  std::vector<std::string> row_keys;   // `rows:` given as a list (e.g. [dataset, seq_len]); rows = first
  std::string baseline;                // vs_baseline: the `columns` value compared against
  std::vector<TableRatio> ratios;      // vs_baseline: the quantities compared (then `value` is unused)
  double scale = 1.0;                  // pivot: multiply cell values
  std::string paper;                   // the paper table this reproduces, e.g. "Table 6"
  std::string caption;
  std::map<std::string, std::string> labels;  // display text for a parameter name or value
};

struct Experiment {
  std::string name;        // must equal the file stem
  std::string file;
  std::vector<std::string> paper;   // paper figure/table ids, e.g. ["Fig 12"]
  std::string description;
  std::string task;        // worker task, e.g. "train-bench"
  // Another experiment whose runs this one draws (its task, matrix, profiles and quick variant are
  // that experiment's; its runs are keyed and logged under that name), e.g. Fig 13's step times
  // come from Fig 12's runs. Empty: the experiment owns its runs.
  std::string runs_from;
  Matrix matrix;
  std::map<std::string, MatrixOverride> profiles;  // profile name -> override
  std::optional<MatrixOverride> quick;             // applied with --quick (after the profile's)
  std::vector<FigureSpec> figures;
  std::vector<TableSpec> tables;

  // The name its runs are keyed, logged (logs/<name>/) and indexed under.
  const std::string& runs_name() const { return runs_from.empty() ? name : runs_from; }
};

// Reads and validates one experiment file. `runs_from: <other>` takes the run-defining keys from
// experiments/<other>.yaml beside it (which must own its runs); giving them here too is an Error. Unknown keys, wrong types, a name that differs from
// the file stem, unknown figure types: Error with file:line:col and what was expected. When the
// file sits in <root>/experiments/, `profiles:` names must be files in <root>/configs/profiles/.
Experiment load_experiment(const std::string& path);

// All experiments/<name>.yaml under `root`, sorted by name.
std::vector<Experiment> load_all_experiments(const std::string& root);

}  // namespace jenga::harness
