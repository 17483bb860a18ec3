#include "harness/plot/script.hpp"

#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jenga::harness {

namespace {

// Canvas geometry in PNG pixels; the PDF is the same canvas at kPdfPxPerInch.
constexpr int kTitlePx = 30, kSubtitlePx = 20, kLegendRowPx = 20, kCaptionLinePx = 16;
constexpr double kPxPerChar = 7.0;   // caption font, average glyph width (with margin)
constexpr double kPngFont = 11, kPdfFont = 11;
// pngcairo draws a point of text larger than 1/100 of an inch of pdfcairo canvas: at 140 px per
// inch the PDF matches the PNG (text to canvas), checked by rendering both.
constexpr double kPdfPxPerInch = 140;

std::string at_screen(double x, double y) { return fmt::format("at screen {:.4f}, screen {:.4f}", x, y); }

}  // namespace

std::string series_color(std::size_t i) {
  static const char* const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                        "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
  return palette[i % std::size(palette)];
}

std::vector<std::string> wrap_text(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

namespace {

// Legend rows: entries placed greedily left to right, each row centred on the canvas.
struct PlacedEntry {
  const LegendEntry* entry;
  int row;
  double x;  // left edge of the sample, px
};

constexpr double kLegendCharPx = 7.0, kSamplePx = 26, kSampleGapPx = 6, kEntryGapPx = 24;

double entry_px(const LegendEntry& e) {
  return kSamplePx + kSampleGapPx + static_cast<double>(e.title.size()) * kLegendCharPx;
}

std::vector<PlacedEntry> place_legend(const std::vector<LegendEntry>& legend, int width, int& rows) {
  std::vector<std::vector<const LegendEntry*>> lines(1);
  double used = 0;
  for (const LegendEntry& e : legend) {
    const double w = entry_px(e);
    if (!lines.back().empty() && used + kEntryGapPx + w > width - 30) {
      lines.emplace_back();
      used = 0;
    }
    used += (lines.back().empty() ? 0 : kEntryGapPx) + w;
    lines.back().push_back(&e);
  }
  std::vector<PlacedEntry> out;
  rows = legend.empty() ? 0 : static_cast<int>(lines.size());
  for (std::size_t r = 0; r < lines.size(); ++r) {
    double total = 0;
    for (const LegendEntry* e : lines[r]) total += (total == 0 ? 0 : kEntryGapPx) + entry_px(*e);
    double x = (width - total) / 2;
    for (const LegendEntry* e : lines[r]) {
      out.push_back({e, static_cast<int>(r), x});
      x += entry_px(*e) + kEntryGapPx;
    }
  }
  return out;
}

}  // namespace

std::string compose_script(const FigureScript& fig, const std::vector<std::string>& formats) {
  const FigureLayout& L = fig.layout;
  const int n = std::max<int>(1, static_cast<int>(fig.panels.size()));
  const int cols = n == 4 ? 2 : std::min(n, L.max_cols);
  const int rows = (n + cols - 1) / cols;
  // Wide enough for the title and subtitle on one line each.
  const int text_px = static_cast<int>(std::max(static_cast<double>(fig.title.size()) * 9.6,
                                                static_cast<double>(fig.subtitle.size()) * 6.9)) + 40;
  const int panel_w = std::max(L.panel_w, (text_px + cols - 1) / cols);
  const int width = cols * panel_w;

  int legend_rows = 0;
  const std::vector<PlacedEntry> legend = place_legend(fig.legend, width, legend_rows);

  std::vector<std::string> caption;
  const auto chars = static_cast<std::size_t>(static_cast<double>(width - 24) / kPxPerChar);
  for (const std::string& para : fig.caption)
    for (std::string& l : wrap_text(para, chars)) caption.push_back(std::move(l));

  const bool panel_titles = std::any_of(fig.panels.begin(), fig.panels.end(), [](const PanelScript& p) { return !p.title.empty(); });
  const int margin_t = panel_titles ? L.margin_t : 14;
  const int top = kTitlePx + (fig.subtitle.empty() ? 0 : kSubtitlePx) + legend_rows * kLegendRowPx + 8;
  const int bottom = static_cast<int>(caption.size()) * kCaptionLinePx + 12;
  const int height = top + rows * L.panel_h + bottom;
  const double W = width, H = height;

  std::string s;
  auto line = [&](const std::string& text) { s += text + "\n"; };
  line(fmt::format("# {}: drawn by `jenga plot` from the run index. Data: {}.dat; runs and logs: {}.sources.txt.",
                   fig.id, fig.id, fig.id));
  line(fmt::format("# Regenerate by hand: cd into this folder, then run: gnuplot {}.gp", fig.id));
  std::string fmts;
  for (const std::string& f : formats) fmts += (fmts.empty() ? "" : " ") + f;
  line(fmt::format("do for [fmt in \"{}\"] {{", fmts));
  line("reset");
  line(fmt::format("if (fmt eq \"png\") {{ set terminal pngcairo size {},{} font \"DejaVu Sans,{}\" noenhanced }}",
                   width, height, kPngFont));
  line(fmt::format("if (fmt eq \"pdf\") {{ set terminal pdfcairo size {:.2f}in,{:.2f}in font \"DejaVu Sans,{}\" noenhanced }}",
                   W / kPdfPxPerInch, H / kPdfPxPerInch, kPdfFont));
  line(fmt::format("if (fmt eq \"svg\") {{ set terminal svg size {},{} font \"DejaVu Sans,{}\" noenhanced background \"white\" }}",
                   width, height, kPngFont));
  line(fmt::format("set output \"{}.\".fmt", fig.id));
  line("set multiplot");

  for (int p = 0; p < n; ++p) {
    const PanelScript empty_panel;
    const PanelScript& panel = p < static_cast<int>(fig.panels.size()) ? fig.panels[p] : empty_panel;
    const int c = p % cols, r = p / cols;
    const double x0 = c * panel_w / W, x1 = (c + 1) * panel_w / W;
    const double y1 = 1.0 - (top + r * L.panel_h) / H, y0 = y1 - L.panel_h / H;
    line(fmt::format("# ---- panel {}{}", p + 1, panel.title.empty() ? "" : ": " + panel.title));
    line("unset label; unset arrow; unset object; unset logscale; unset title; unset key; set autoscale");
    line("unset xtics; unset ytics; unset x2tics; unset y2tics; unset colorbox; unset grid");
    line(fmt::format("set lmargin at screen {:.4f}; set rmargin at screen {:.4f}", x0 + L.margin_l / W,
                     x1 - L.margin_r / W));
    line(fmt::format("set tmargin at screen {:.4f}; set bmargin at screen {:.4f}", y1 - margin_t / H,
                     y0 + L.margin_b / H));
    line("set border 3 lw 1.2; set xtics nomirror out scale 0.6; set ytics nomirror out scale 0.6");
    line("set grid ytics lc rgb \"#e0e0e0\" lt 1");
    if (!panel.title.empty()) line("set title " + gp_quote(panel.title) + " font \",11\"");
    line("set xlabel " + gp_quote(panel.xlabel));
    line("set ylabel " + gp_quote(c == 0 ? panel.ylabel : "") + " offset 0.5,0");
    if (p == 0) {
      line("set label 9001 " + gp_quote(fig.title) + " " + at_screen(0.5, 1 - 19 / H) + " center font \",14\"");
      if (!fig.subtitle.empty())
        line("set label 9002 " + gp_quote(fig.subtitle) + " " + at_screen(0.5, 1 - (kTitlePx + 12) / H) +
             " center font \",10\" tc rgb \"#404040\"");
      for (std::size_t i = 0; i < caption.size(); ++i)
        line(fmt::format("set label {} {} {} left font \",9.5\" tc rgb \"#303030\"", 9100 + i, gp_quote(caption[i]),
                         at_screen(12 / W, (bottom - 14 - static_cast<double>(i) * kCaptionLinePx) / H)));
      // The legend: a sample (box, or line with its point) and the title, per entry.
      const double legend_top = kTitlePx + (fig.subtitle.empty() ? 0 : kSubtitlePx) + 12;
      int obj = 9300, lab = 9200, arr = 9400;
      for (const PlacedEntry& pe : legend) {
        const LegendEntry& e = *pe.entry;
        const double yc = 1 - (legend_top + pe.row * kLegendRowPx) / H;
        const double xs = pe.x / W, xe = (pe.x + kSamplePx) / W;
        if (e.sample == LegendEntry::Sample::Box) {
          line(fmt::format("set object {} rect from screen {:.4f}, screen {:.4f} to screen {:.4f}, screen {:.4f} "
                           "fc rgb \"{}\" fs solid 0.9 border lc rgb \"#303030\" front",
                           obj++, xs, yc - 5.5 / H, xe, yc + 5.5 / H, e.color));
        } else {
          line(fmt::format("set arrow {} from screen {:.4f}, screen {:.4f} to screen {:.4f}, screen {:.4f} nohead "
                           "lw {} dt {} lc rgb \"{}\" front",
                           arr++, xs, yc, xe, yc, e.width, e.dash, e.color));
          if (e.point > 0)
            line(fmt::format("set label {} \"\" {} point pt {} ps 1.1 lc rgb \"{}\" front", lab++,
                             at_screen((pe.x + kSamplePx / 2) / W, yc), e.point, e.color));
        }
        line(fmt::format("set label {} {} {} left front", lab++, gp_quote(e.title),
                         at_screen((pe.x + kSamplePx + kSampleGapPx) / W, yc)));
      }
    }
    for (const std::string& cmd : panel.setup) line(cmd);
    std::vector<std::string> elements = panel.plots;
    if (elements.empty()) {
      line("set label 9500 \"no data\" at graph 0.5, graph 0.5 center tc rgb \"#808080\"");
      line("set xrange [0:1]; set yrange [0:1]; unset xtics; unset ytics");
      elements.push_back("NaN notitle");
    }
    std::string plot = "plot ";
    for (std::size_t i = 0; i < elements.size(); ++i) plot += (i == 0 ? "" : ", \\\n     ") + elements[i];
    line(plot);
  }
  line("unset multiplot");
  line("set output");
  line("}");
  return s;
}

}  // namespace jenga::harness
