// grouped_bars and stacked_bars: clusters along x, one bar per series in each cluster, one panel
// per facet value. Bars sit at computed positions (not gnuplot's histogram style) so marks and
// annotations can be placed exactly over a bar.
#include "harness/plot/figure.hpp"
#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jenga::harness {

namespace {

constexpr double kClusterWidth = 0.8;

struct Bar {
  double pos = 0;
  std::optional<double> total;           // scaled; set when every part has a value
  std::vector<std::optional<double>> parts;  // stacked_bars: per component
  std::string mark;                       // shown instead of a value
};

std::string ratio_text(double r) { return r >= 10 ? fmt::format("{:.1f}×", r) : fmt::format("{:.2f}×", r); }

}  // namespace

RenderedFigure render_bars(const RunSet& set, const FigureSpec& spec) {
  const bool stacked = spec.type == "stacked_bars";
  FigureContext ctx(set, spec);
  const std::vector<std::string> values = stacked ? spec.stack : std::vector<std::string>{spec.y};
  std::vector<Grid> grids;
  for (const std::string& v : values) grids.push_back(build_grid(set, GridSpec{{spec.facet, spec.series, spec.x}, v, spec.filter}));
  for (const Grid& g : grids)
    for (const std::string& n : g.notes)
      if (std::find(ctx.warnings.begin(), ctx.warnings.end(), n) == ctx.warnings.end()) ctx.warnings.push_back(n);
  const Grid& g0 = grids.front();
  const auto& facets = g0.axes[0];
  const auto& series = g0.axes[1];
  // Stacked components may come from metrics of differing tags; the first grid's x axis rules.
  const auto& xs = g0.axes[2];
  const std::size_t ns = std::max<std::size_t>(1, series.size());
  const double bar_w = kClusterWidth / static_cast<double>(ns);
  const std::string metric_unit = g0.unit;

  RenderedFigure out;
  out.script.layout = FigureLayout{};
  FigureLayout& L = out.script.layout;
  // Many bars widen the panel rather than squeeze the bars below legibility.
  const int bars_total = static_cast<int>(xs.size() * ns);
  L.panel_w = std::max(L.panel_w, L.margin_l + L.margin_r + 30 + bars_total * (stacked ? 44 : 26));
  const double plot_px = L.panel_w - L.margin_l - L.margin_r;
  const double bar_px = plot_px / (static_cast<double>(xs.size()) + 0.2) * bar_w;
  // Stacked bars of several series: each bar's series under it, the x value under its cluster.
  const bool per_bar_ticks = stacked && !spec.series.empty() && series.size() > 1;
  std::size_t longest_tick = 0;
  for (const Json& s : series) longest_tick = std::max(longest_tick, ctx.series_name(s).size());
  const bool rotate_ticks = per_bar_ticks && static_cast<double>(longest_tick) * 6.3 > bar_px * 0.95;
  constexpr double kLinePx = 14;  // one text line at the tick font, px
  const double tick_px = !per_bar_ticks ? 0 : rotate_ticks ? static_cast<double>(std::min<std::size_t>(longest_tick, 16)) * 6.3 * 0.64 + 12 : kLinePx + 4;
  if (per_bar_ticks) L.margin_b += static_cast<int>(tick_px + kLinePx + 4);

  DataFile dat;
  const std::string ylabel = axis_label(spec.y_label, stacked ? (spec.y.empty() ? spec.stack.front() : spec.y) : spec.y,
                                        spec.y_scale, metric_unit, spec.labels);
  const std::string xlabel = axis_label(spec.x_label, spec.x, 1.0, "", spec.labels);
  const bool annotate = !spec.annotate.empty() && !spec.baseline.empty();
  const bool up = annotate && higher_is_better(stacked ? spec.stack.front() : spec.y);
  std::optional<Json> baseline;
  for (const Json& s : series)
    if (value_text(s) == spec.baseline) baseline = s;
  if (annotate && !baseline && !series.empty())
    ctx.warnings.push_back(fmt::format("baseline series '{}' has no runs; no {} labels", spec.baseline, spec.annotate));

  for (const Json& facet : facets) {
    PanelScript panel;
    panel.title = ctx.panel_title(facet);
    panel.xlabel = xlabel;
    panel.ylabel = ylabel;
    const std::string ptitle = spec.facet.empty() ? "" : value_text(facet);

    // Bars of this panel, [x][series].
    std::vector<std::vector<Bar>> bars(xs.size(), std::vector<Bar>(ns));
    double ymax = 0, ymin_pos = INFINITY;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      for (std::size_t j = 0; j < ns; ++j) {
        Bar& b = bars[i][j];
        b.pos = static_cast<double>(i) - kClusterWidth / 2 + bar_w * (static_cast<double>(j) + 0.5);
        const Json sv = series.empty() ? Json() : series[j];
        const std::vector<Json> at = {facet, sv, xs[i]};
        const std::string stext = spec.series.empty() ? "" : value_text(sv);
        double total = 0;
        bool complete = true;
        std::string missing_part;
        for (std::size_t k = 0; k < grids.size(); ++k) {
          const Cell* c = grids[k].at(at);
          if (k == 0) b.mark = ctx.account(c, ptitle, stext, value_text(xs[i]));
          std::optional<double> v;
          if (c != nullptr && c->value) v = *c->value * spec.y_scale;
          b.parts.push_back(v);
          if (v)
            total += *v;
          else {
            complete = false;
            if (c != nullptr && c->status != "ok" && b.mark.empty()) b.mark = cell_mark(c->status);
            if (missing_part.empty()) missing_part = values[k];
          }
        }
        if (grids.front().at(at) == nullptr) continue;  // no run at all maps here: nothing to show
        if (complete) {
          b.total = total;
          ymax = std::max(ymax, total);
          if (total > 0) ymin_pos = std::min(ymin_pos, total);
        } else if (b.mark.empty()) {
          b.mark = "no data";
          ctx.warnings.push_back(fmt::format("bar ({}, {}) lacks '{}'", stext, value_text(xs[i]), missing_part));
        }
      }
    }

    // Data blocks: one per series (grouped) or per component (stacked).
    if (!stacked) {
      for (std::size_t j = 0; j < ns; ++j) {
        const Json sv = series.empty() ? Json() : series[j];
        const int idx = dat.block(fmt::format("panel {} | series {}", ptitle.empty() ? "-" : ptitle,
                                              spec.series.empty() ? spec.y : value_text(sv)),
                                  {"pos", "value", "x", "status"});
        bool has_bar = false;
        for (std::size_t i = 0; i < xs.size(); ++i) {
          has_bar = has_bar || bars[i][j].total.has_value();
          const Bar& b = bars[i][j];
          const Cell* c = grids[0].at({facet, sv, xs[i]});
          dat.row({fmt::format("{:.4f}", b.pos), dat_number(b.total), dat_string(value_text(xs[i])),
                   dat_string(c == nullptr ? "no run" : c->status)});
        }
        if (has_bar)  // a block of NaN only would make gnuplot warn about a file without valid points
          panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2:({:.4f}) with boxes fs solid 0.9 border lc rgb "
                                            "\"#303030\" fc rgb \"{}\" notitle",
                                            spec.id, idx, bar_w * 0.92, series_color(j)));
      }
    } else {
      for (std::size_t k = 0; k < grids.size(); ++k) {
        const int idx = dat.block(fmt::format("panel {} | component {}", ptitle.empty() ? "-" : ptitle, values[k]),
                                  {"pos", "low", "high", "x", "series", "status"});
        bool has_bar = false;
        for (std::size_t i = 0; i < xs.size(); ++i) {
          for (std::size_t j = 0; j < ns; ++j) {
            const Bar& b = bars[i][j];
            has_bar = has_bar || b.total.has_value();
            std::optional<double> lo, hi;
            if (b.total) {
              double acc = 0;
              for (std::size_t q = 0; q < k; ++q) acc += *b.parts[q];
              lo = acc;
              hi = acc + *b.parts[k];
            }
            const Json sv = series.empty() ? Json() : series[j];
            const Cell* c = grids[k].at({facet, sv, xs[i]});
            dat.row({fmt::format("{:.4f}", b.pos), dat_number(lo), dat_number(hi), dat_string(value_text(xs[i])),
                     dat_string(value_text(sv)), dat_string(c == nullptr ? "no run" : c->status)});
          }
        }
        const double hw = bar_w * 0.46;
        if (has_bar)
          panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:3:($1-{:.4f}):($1+{:.4f}):2:3 with boxxyerror "
                                          "fs solid 0.9 border lc rgb \"#303030\" fc rgb \"{}\" notitle",
                                          spec.id, idx, hw, hw, series_color(k)));
      }
    }

    // Marks for missing bars and ratio labels over bars.
    for (std::size_t i = 0; i < xs.size(); ++i) {
      std::optional<double> base;
      if (baseline) {
        const std::size_t bj = static_cast<std::size_t>(std::find(series.begin(), series.end(), *baseline) - series.begin());
        base = bars[i][bj].total;
      }
      for (std::size_t j = 0; j < ns; ++j) {
        const Bar& b = bars[i][j];
        if (!b.total && !b.mark.empty()) {
          const bool rotate = static_cast<double>(b.mark.size()) * 6.6 > bar_px * 0.9;  // horizontal if it fits the bar
          panel.setup.push_back(mark_command(b.mark, b.pos, spec.log_y ? "graph 0.02" : "first 0", rotate,
                                             rotate ? "offset 0,0.3" : "offset 0,0.7"));
        } else if (annotate && b.total && base && *b.total > 0 && !(series[j] == *baseline)) {
          const double r = up ? *b.total / *base : *base / *b.total;
          const bool rot = bar_px < 40;
          panel.setup.push_back(fmt::format("set label {} at first {:.4f}, first {:.6g} {} offset 0,{} font \",8.5\" "
                                            "tc rgb \"#202020\"",
                                            gp_quote(ratio_text(r)), b.pos, *b.total,
                                            rot ? "rotate by 90 left" : "center", rot ? "0.3" : "0.6"));
        }
      }
    }

    // Axes.
    std::string tics;
    if (per_bar_ticks) {
      for (std::size_t i = 0; i < xs.size(); ++i) {
        for (std::size_t j = 0; j < ns; ++j)
          tics += fmt::format("{}{} {:.4f}", tics.empty() ? "" : ", ", gp_quote(ctx.series_name(series[j])), bars[i][j].pos);
        panel.setup.push_back(fmt::format("set label {} at first {}, graph 0 center offset 0,{:.2f} font \",10.5\"",
                                          gp_quote(ctx.x_text(xs[i])), i, -(tick_px + 10) / kLinePx));
      }
      panel.setup.push_back(fmt::format("set xtics ({}) scale 0 font \",9\"{}", tics,
                                        rotate_ticks ? " rotate by 40 right" : ""));
      // gnuplot already puts the x label under the tick labels; make room for the cluster row.
      panel.setup.push_back(fmt::format("set xlabel offset 0,{:.2f}", -(kLinePx + 2) / kLinePx));
    } else {
      for (std::size_t i = 0; i < xs.size(); ++i)
        tics += fmt::format("{}{} {}", tics.empty() ? "" : ", ", gp_quote(ctx.x_text(xs[i])), i);
      panel.setup.push_back("set xtics (" + tics + ") scale 0");
    }
    panel.setup.push_back(fmt::format("set xrange [{:.3f}:{:.3f}]", -0.6, static_cast<double>(xs.size()) - 0.4));
    const double head = annotate ? (bar_px < 40 ? 1.28 : 1.14) : 1.08;
    if (spec.log_y) {
      panel.setup.push_back("set logscale y");
      if (ymax > 0) panel.setup.push_back(fmt::format("set yrange [{:.6g}:{:.6g}]", ymin_pos / 2, ymax * 2));
    } else {
      panel.setup.push_back(fmt::format("set yrange [0:{:.6g}]", ymax > 0 ? ymax * head : 1.0));
    }
    if (xs.empty()) panel.plots.clear();
    out.script.panels.push_back(std::move(panel));
  }

  // Legend: series (grouped) or components (stacked).
  if (!stacked) {
    if (!spec.series.empty())
      for (std::size_t j = 0; j < series.size(); ++j)
        out.script.legend.push_back({ctx.series_name(series[j]), LegendEntry::Sample::Box, series_color(j)});
  } else {
    for (std::size_t k = 0; k < values.size(); ++k) {
      const auto it = spec.labels.find(values[k]);
      out.script.legend.push_back(
          {it != spec.labels.end() ? it->second : humanize(values[k]), LegendEntry::Sample::Box, series_color(k)});
    }
  }
  std::vector<std::string> extra;
  if (annotate && baseline) {
    const std::string what = spec.annotate == "speedup" ? "speedup" : "memory reduction";
    const std::string q = humanize(stacked ? spec.stack.front() : spec.y);
    extra.push_back(fmt::format("Numbers over bars: {} vs {} ({}).", what, ctx.series_name(*baseline),
                                up ? q + " of the method / " + q + " of " + spec.baseline
                                   : q + " of " + spec.baseline + " / " + q + " of the method"));
  }
  if (facets.empty()) out.script.panels.push_back(PanelScript{"", xlabel, ylabel, {}, {}});
  out.data = dat.text();
  ctx.finish(out, extra);
  return out;
}

}  // namespace jenga::harness
