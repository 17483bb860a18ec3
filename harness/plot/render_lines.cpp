// lines: y over a numeric x (sequence length), one line per series, one panel per facet value.
// A missing point breaks its line (NaN in the data) and gets a mark in its series colour at the
// foot of the panel saying why (OOM, error, not run; marks stack when several series miss one x).
#include "harness/plot/figure.hpp"
#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace jenga::harness {

RenderedFigure render_lines(const RunSet& set, const FigureSpec& spec) {
  FigureContext ctx(set, spec);
  const Grid g = build_grid(set, GridSpec{{spec.facet, spec.series, spec.x}, spec.y, spec.filter});
  ctx.warnings = g.notes;
  const auto& facets = g.axes[0];
  const auto& series = g.axes[1];
  const auto& xs = g.axes[2];
  const bool numeric_x = !xs.empty() && std::all_of(xs.begin(), xs.end(), [](const Json& v) { return v.is_number(); });
  const bool log_x = spec.log_x && numeric_x &&
                     std::all_of(xs.begin(), xs.end(), [](const Json& v) { return v.get<double>() > 0; });
  auto xpos = [&](std::size_t i) { return numeric_x ? xs[i].get<double>() : static_cast<double>(i); };

  RenderedFigure out;
  DataFile dat;
  const std::string ylabel = axis_label(spec.y_label, spec.y, spec.y_scale, g.unit, spec.labels);
  const std::string xlabel = axis_label(spec.x_label, spec.x, 1.0, "", spec.labels);

  for (const Json& facet : facets) {
    PanelScript panel;
    panel.title = ctx.panel_title(facet);
    panel.xlabel = xlabel;
    panel.ylabel = ylabel;
    const std::string ptitle = spec.facet.empty() ? "" : value_text(facet);
    std::map<std::size_t, int> marks_at;  // x index -> marks already placed there
    double ymin_pos = INFINITY, ymax = 0;
    bool any = false;
    for (std::size_t j = 0; j < series.size(); ++j) {
      const Json& sv = series[j];
      const std::string stext = spec.series.empty() ? "" : value_text(sv);
      const int idx = dat.block(fmt::format("panel {} | series {}", ptitle.empty() ? "-" : ptitle,
                                            spec.series.empty() ? spec.y : stext),
                                {"x", "value", "status"});
      bool has_points = false;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const Cell* c = g.at({facet, sv, xs[i]});
        const std::string mark = ctx.account(c, ptitle, stext, value_text(xs[i]));
        std::optional<double> y;
        if (c != nullptr && c->value) {
          y = *c->value * spec.y_scale;
          has_points = any = true;
          ymax = std::max(ymax, *y);
          if (*y > 0) ymin_pos = std::min(ymin_pos, *y);
        }
        dat.row({fmt::format("{:.6g}", xpos(i)), dat_number(y), dat_string(c == nullptr ? "no run" : c->status)});
        if (!mark.empty()) {
          const int k = marks_at[i]++;
          panel.setup.push_back(mark_command(mark, xpos(i), fmt::format("graph {:.3f}", 0.05 + 0.1 * k), false,
                                             fmt::format("point pt 2 ps 1.3 lc rgb \"{}\" offset 0,0.75",
                                                         series_color(j))));
        }
      }
      if (has_points)
        panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2 with linespoints lw 2 pt {} ps 1.1 lc rgb \"{}\" "
                                          "notitle",
                                          spec.id, idx, 5 + 2 * static_cast<int>(j % 4), series_color(j)));
    }
    std::string tics;
    for (std::size_t i = 0; i < xs.size(); ++i)
      tics += fmt::format("{}{} {:.6g}", tics.empty() ? "" : ", ", gp_quote(ctx.x_text(xs[i])), xpos(i));
    panel.setup.push_back("set xtics (" + tics + ")");
    if (!xs.empty()) {
      const double lo = xpos(0), hi = xpos(xs.size() - 1);
      if (log_x) {
        panel.setup.push_back("set logscale x 2");
        panel.setup.push_back(fmt::format("set xrange [{:.6g}:{:.6g}]", lo / 1.2, hi * 1.2));
      } else {
        const double pad = hi > lo ? (hi - lo) * 0.06 : 0.5;
        panel.setup.push_back(fmt::format("set xrange [{:.6g}:{:.6g}]", lo - pad, hi + pad));
      }
    }
    if (spec.log_y && any) {
      panel.setup.push_back("set logscale y");
      panel.setup.push_back(fmt::format("set yrange [{:.6g}:{:.6g}]", ymin_pos / 1.5, ymax * 1.5));
    } else {
      panel.setup.push_back(fmt::format("set yrange [0:{:.6g}]", any && ymax > 0 ? ymax * 1.1 : 1.0));
    }
    if (xs.empty()) panel.plots.clear();
    out.script.panels.push_back(std::move(panel));
  }
  if (facets.empty()) out.script.panels.push_back(PanelScript{"", xlabel, ylabel, {}, {}});
  for (std::size_t j = 0; j < series.size(); ++j)
    if (!spec.series.empty())
      out.script.legend.push_back({ctx.series_name(series[j]), LegendEntry::Sample::Line, series_color(j),
                                   5 + 2 * static_cast<int>(j % 4), 2, 1});
  out.data = dat.text();
  ctx.finish(out, {});
  return out;
}

}  // namespace jenga::harness
