// `jenga plot`: figures declared in experiment specs, drawn from the run index by gnuplot.
// Each figure writes into <out_dir>/<group>/: <id>.dat (the numbers drawn), <id>.gp (the script,
// runnable by hand), <id>.sources.txt (every run behind every mark, with its log file) and
// <id>.png/.pdf (and .svg when asked). Missing values stay missing: never zero, never invented.
#pragma once

#include "harness/spec/experiment.hpp"
#include "harness/store/store.hpp"

#include <string>
#include <vector>

namespace jenga::harness {

struct PlotOptions {
  std::string repo_root = ".";        // configs/profiles/ for planned runs and memory caps
  std::string out_dir;                // default <repo_root>/output_figures
  std::vector<std::string> formats = {"png", "pdf"};  // any of png, pdf, svg
  std::string profile;                // only runs of this profile ("" = all)
  std::string gnuplot = "gnuplot";    // the program to run
  bool render = true;                 // false: write .dat, .gp and .sources.txt only
  int jobs = 0;                       // gnuplot processes at once; 0 = number of cores
};

struct FigureRef {
  const Experiment* experiment = nullptr;
  const FigureSpec* figure = nullptr;
};

struct FigureResult {
  std::string experiment, id, group;
  std::vector<std::string> files;     // paths written (data, script, sources, images)
  std::vector<std::string> warnings;  // about the data (missing runs, ambiguous points, ...)
  std::string error;                  // set when drawing failed (gnuplot's own words)
  double seconds = 0;
};

// Figures whose id, experiment name or paper id (e.g. "Fig 12": the figure's own, else its
// experiment's) is in `names`; every figure when `names` is empty. Error for a name that matches nothing, listing what exists.
std::vector<FigureRef> select_figures(const std::vector<Experiment>& experiments,
                                      const std::vector<std::string>& names);

// Draws the figures, one RunSet per experiment, up to opt.jobs gnuplot processes at a time.
// A figure that fails is reported in its result; the others are still drawn. Error only when
// an option is invalid (unknown format) or gnuplot is needed and cannot be found.
std::vector<FigureResult> plot_figures(const Store& store, const std::vector<FigureRef>& figures,
                                       const PlotOptions& opt);

}  // namespace jenga::harness
