// Assembling a gnuplot script: panels laid out on one canvas (multiplot with margins fixed in
// screen coordinates, so PNG and PDF look alike), a title with the hardware, one shared legend
// and a caption; the same body drawn once per output format.
#pragma once

#include <string>
#include <vector>

namespace jenga::harness {

// One legend entry, drawn by the script itself (gnuplot's key would wrap to the plot width).
struct LegendEntry {
  enum class Sample { Box, Line };
  std::string title;
  Sample sample = Sample::Box;
  std::string color;   // "#RRGGBB"
  int point = 0;       // Line: gnuplot point type drawn on the line, 0 = none
  double width = 2;    // Line: line width
  int dash = 1;        // Line: dash type
};

struct PanelScript {
  std::string title;                 // facet text; "" for a single panel
  std::string xlabel, ylabel;
  std::vector<std::string> setup;    // commands before the plot (ranges, tics, marks)
  std::vector<std::string> plots;    // plot elements; none: an empty frame saying "no data"
};

struct FigureLayout {
  int panel_w = 560, panel_h = 400;  // one panel's cell, PNG pixels
  int margin_l = 84, margin_r = 20, margin_t = 34, margin_b = 62;  // plot area inside its cell
  int max_cols = 3;
};

struct FigureScript {
  std::string id;                    // output stem
  std::string title;
  std::string subtitle;              // hardware and run counts
  std::vector<std::string> caption;  // paragraphs; wrapped to the canvas width
  std::vector<LegendEntry> legend;   // drawn once, above the panels
  std::vector<PanelScript> panels;
  FigureLayout layout;
};

// The script text: writes <id>.<fmt> for each of `formats` (png, pdf, svg) in its own folder.
std::string compose_script(const FigureScript& fig, const std::vector<std::string>& formats);

// Colour of series i (Okabe-Ito, readable by the colour-blind and in grey print), as "#RRGGBB".
std::string series_color(std::size_t i);

// Wraps text into lines of at most `width` characters at spaces.
std::vector<std::string> wrap_text(const std::string& text, std::size_t width);

}  // namespace jenga::harness
