// heatmap: x values as columns, series values as rows (e.g. NIAH: context length x needle
// depth), y as the colour, with each cell's value printed in it. A cell without a value is grey
// and names why (OOM, not run, ...).
#include "harness/plot/figure.hpp"
#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jenga::harness {

RenderedFigure render_heatmap(const RunSet& set, const FigureSpec& spec) {
  FigureContext ctx(set, spec);
  const Grid g = build_grid(set, GridSpec{{spec.facet, spec.series, spec.x}, spec.y, spec.filter});
  ctx.warnings = g.notes;
  const auto& facets = g.axes[0];
  const auto& rows = g.axes[1];
  const auto& cols = g.axes[2];

  double vmin = INFINITY, vmax = -INFINITY;
  bool integral = true;
  for (const auto& [coords, cell] : g.cells) {
    if (!cell.value) continue;
    const double v = *cell.value * spec.y_scale;
    vmin = std::min(vmin, v);
    vmax = std::max(vmax, v);
    integral = integral && std::floor(v) == v;
  }
  // Colour range: scores in [0,1] or percentages keep their natural scale so panels compare.
  double lo = 0, hi = 1;
  if (std::isfinite(vmin)) {
    lo = std::min(0.0, vmin);
    hi = vmax <= 1 ? 1 : vmax <= 100 && vmin >= 0 ? 100 : vmax;
    if (hi <= lo) hi = lo + 1;
  }
  const char* cell_fmt = hi <= 1 ? "%.2f" : integral ? "%.0f" : "%.1f";

  RenderedFigure out;
  FigureLayout& L = out.script.layout;
  L.margin_r = 96;  // colour box and its label
  L.panel_w = std::max(L.panel_w, 140 + 60 * static_cast<int>(cols.size()));
  L.panel_h = std::max(L.panel_h, 130 + 34 * static_cast<int>(rows.size()));
  DataFile dat;
  const std::string cblabel = axis_label(spec.y_label, spec.y, spec.y_scale, g.unit, spec.labels);
  const std::string xlabel = axis_label(spec.x_label, spec.x, 1.0, "", spec.labels);
  const std::string ylabel = axis_label("", spec.series, 1.0, "", spec.labels);

  for (const Json& facet : facets) {
    PanelScript panel;
    panel.title = ctx.panel_title(facet);
    panel.xlabel = xlabel;
    panel.ylabel = ylabel;
    const std::string ptitle = spec.facet.empty() ? "" : value_text(facet);
    const int idx = dat.block(fmt::format("panel {} | cells with a value", ptitle.empty() ? "-" : ptitle),
                              {"col", "row", "value", "x", "row_value"});
    std::vector<std::pair<std::size_t, std::size_t>> missing;
    std::vector<std::string> missing_marks;
    bool any = false;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      for (std::size_t c = 0; c < cols.size(); ++c) {
        const Cell* cell = g.at({facet, rows[r], cols[c]});
        const std::string mark = ctx.account(cell, ptitle, value_text(rows[r]), value_text(cols[c]));
        if (cell != nullptr && cell->value) {
          dat.row({std::to_string(c), std::to_string(r), dat_number(*cell->value * spec.y_scale),
                   dat_string(value_text(cols[c])), dat_string(value_text(rows[r]))});
          any = true;
        } else {
          missing.emplace_back(c, r);
          missing_marks.push_back(cell == nullptr ? "no run" : mark);
        }
      }
    }
    const int midx = dat.block(fmt::format("panel {} | cells without a value", ptitle.empty() ? "-" : ptitle),
                               {"col", "row", "mark"});
    for (std::size_t m = 0; m < missing.size(); ++m)
      dat.row({std::to_string(missing[m].first), std::to_string(missing[m].second), dat_string(missing_marks[m])});

    std::string xt, yt;
    for (std::size_t c = 0; c < cols.size(); ++c)
      xt += fmt::format("{}{} {}", xt.empty() ? "" : ", ", gp_quote(ctx.x_text(cols[c])), c);
    for (std::size_t r = 0; r < rows.size(); ++r)
      yt += fmt::format("{}{} {}", yt.empty() ? "" : ", ", gp_quote(value_label(spec.series, rows[r], spec.labels)), r);
    panel.setup.push_back("set xtics (" + xt + ") scale 0");
    panel.setup.push_back("set ytics (" + yt + ") scale 0");
    panel.setup.push_back("unset grid");
    panel.setup.push_back("set border 0");
    panel.setup.push_back(fmt::format("set xrange [-0.5:{}]; set yrange [-0.5:{}]", static_cast<double>(cols.size()) - 0.5,
                                      static_cast<double>(rows.size()) - 0.5));
    panel.setup.push_back(fmt::format("set cbrange [{:.6g}:{:.6g}]", lo, hi));
    panel.setup.push_back("set palette defined (0 \"#b2182b\", 0.5 \"#fee08b\", 1 \"#1a9850\")");
    panel.setup.push_back("set colorbox vertical user origin graph 1.03, graph 0 size graph 0.04, graph 1");
    panel.setup.push_back("set cblabel " + gp_quote(cblabel) + " offset 0.5,0");
    if (!cols.empty() && !rows.empty()) {
      if (any) {
        panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5):3 with "
                                          "boxxyerror fs solid 1.0 border lc rgb \"white\" fc palette notitle",
                                          spec.id, idx));
        panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2:(sprintf(\"{}\", $3)) with labels font \",9.5\" "
                                          "tc rgb \"#111111\" notitle",
                                          spec.id, idx, cell_fmt));
      } else {
        panel.setup.push_back("unset colorbox");
      }
      if (!missing.empty()) {
        panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5) with "
                                          "boxxyerror fs solid 1.0 border lc rgb \"white\" fc rgb \"#d9d9d9\" notitle",
                                          spec.id, midx));
        panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2:3 with labels font \",8\" tc rgb \"#7a0000\" "
                                          "notitle",
                                          spec.id, midx));
      }
    }
    out.script.panels.push_back(std::move(panel));
  }
  if (facets.empty()) out.script.panels.push_back(PanelScript{"", xlabel, ylabel, {}, {}});
  out.data = dat.text();
  ctx.finish(out, {"Grey cells have no value; the text says why."});
  return out;
}

}  // namespace jenga::harness
