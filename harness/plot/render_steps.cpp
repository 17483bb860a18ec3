// loss_curve and memory_timeline: one curve per run from its step records (x: the step index or a
// field of the record, y: a field such as "loss" or "mem_mib.allocated"; or else from metric
// records named y with x in their tags), grouped into series and panels by parameters. A run that failed keeps the curve it logged, ending in a mark.
#include "harness/plot/figure.hpp"
#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jenga::harness {

namespace {

// data["a"]["b"] for "a.b"; nullopt when absent or not a number.
std::optional<double> field(const Json& data, const std::string& path) {
  const Json* j = &data;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!j->is_object()) return std::nullopt;
    const auto it = j->find(part);
    if (it == j->end()) return std::nullopt;
    j = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (j->is_number()) return j->get<double>();
  return std::nullopt;
}

// Timelines often coincide except where the methods differ: earlier series are drawn wider, so a
// later curve lying on top of one still shows both colours. Loss curves rarely do.
double line_width(bool timeline, std::size_t series_index) {
  if (!timeline) return 2.0;
  return series_index == 0 ? 4.0 : series_index == 1 ? 2.6 : 1.8;
}

struct Curve {
  const RunRow* run = nullptr;
  Json facet, series;
  std::vector<std::pair<double, double>> points;
};

}  // namespace

RenderedFigure render_steps(const RunSet& set, const FigureSpec& spec) {
  FigureContext ctx(set, spec);
  const std::string xkey = spec.x.empty() ? "step" : spec.x;
  const Json none = Json::object();

  std::vector<Curve> curves;
  std::vector<Json> facet_values, series_values;
  auto remember = [](std::vector<Json>& seen, const Json& v) {
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  };
  auto key_of = [&](const RunRow& r, const std::string& key) {
    if (key.empty()) return Json();
    const auto v = lookup_key(r.params, &r, none, key);
    return v ? normalise_value(*v) : Json("?");
  };
  for (const RunRow& r : set.runs()) {
    if (!matches_filter(r.params, &r, none, spec.filter, /*absent_matches=*/false)) continue;
    Curve c;
    c.run = &r;
    c.facet = key_of(r, spec.facet);
    c.series = key_of(r, spec.series);
    for (const StepRow& s : set.steps(r)) {
      const Json& data = s.data.empty() && !s.json.empty() ? Json::parse(s.json, nullptr, false) : s.data;
      const std::optional<double> x = xkey == "step" ? std::optional<double>(static_cast<double>(s.step)) : field(data, xkey);
      const std::optional<double> y = field(data, spec.y);
      if (x && y) c.points.emplace_back(*x * spec.x_scale, *y * spec.y_scale);
    }
    // A worker may log a trace as metric records instead ({"name": y, "tags": {x: ...}}).
    if (c.points.empty())
      for (const Observation& o : set.observations(r, spec.y)) {
        const auto x = o.tags.find(xkey);
        if (o.value && x != o.tags.end() && x->is_number())
          c.points.emplace_back(x->get<double>() * spec.x_scale, *o.value * spec.y_scale);
      }
    std::sort(c.points.begin(), c.points.end());
    remember(facet_values, c.facet);
    remember(series_values, c.series);
    curves.push_back(std::move(c));
  }
  std::vector<const RunRow*> not_run;
  for (const RunRow& r : set.not_run()) {
    if (!matches_filter(r.params, &r, none, spec.filter, /*absent_matches=*/false)) continue;
    not_run.push_back(&r);
    remember(facet_values, key_of(r, spec.facet));
    remember(series_values, key_of(r, spec.series));
  }
  facet_values = order_values(set.experiment(), spec.facet, facet_values);
  series_values = order_values(set.experiment(), spec.series, series_values);
  auto series_index = [&](const Json& v) {
    return static_cast<std::size_t>(std::find(series_values.begin(), series_values.end(), v) - series_values.begin());
  };
  std::stable_sort(curves.begin(), curves.end(),
                   [&](const Curve& a, const Curve& b) { return series_index(a.series) < series_index(b.series); });

  RenderedFigure out;
  DataFile dat;
  const bool timeline = spec.type == "memory_timeline";
  std::string xlabel = spec.x_label;
  if (xlabel.empty()) xlabel = xkey == "step" ? (timeline ? "step" : "training step") : axis_label("", xkey, spec.x_scale, "", spec.labels);
  const std::string ylabel = axis_label(spec.y_label, spec.y, spec.y_scale, "", spec.labels);
  std::vector<bool> in_legend(series_values.size(), false);
  std::vector<std::string> missing_notes;

  for (const Json& facet : facet_values) {
    PanelScript panel;
    panel.title = ctx.panel_title(facet);
    panel.xlabel = xlabel;
    panel.ylabel = ylabel;
    const std::string ptitle = spec.facet.empty() ? "" : value_text(facet);
    double ymax = 0, xmin = INFINITY, xmax = -INFINITY;
    std::map<std::size_t, int> dash_of_series;
    for (const Curve& c : curves) {
      if (!(c.facet == facet)) continue;
      const std::size_t j = series_index(c.series);
      const std::string stext = spec.series.empty() ? "" : value_text(c.series);
      const std::string mark = c.run->status == "ok" ? "" : cell_mark(c.run->status);
      ctx.account_run(*c.run, ptitle, stext, "", c.points.empty() ? "(no samples)" : fmt::format("{} samples", c.points.size()),
                      c.run->status == "ok" ? "" : c.run->message);
      if (c.points.empty()) {
        missing_notes.push_back(fmt::format("{}{} ({}) logged no '{}' samples", ptitle.empty() ? "" : ptitle + ": ",
                                            ctx.series_name(c.series), mark.empty() ? "ok" : mark, spec.y));
        continue;
      }
      const int idx = dat.block(fmt::format("panel {} | series {} | run {} ({})", ptitle.empty() ? "-" : ptitle,
                                            stext.empty() ? "-" : stext, c.run->key, c.run->status),
                                {xkey, spec.y});
      for (const auto& [x, y] : c.points) {
        dat.row({fmt::format("{:.6g}", x), fmt::format("{:.6g}", y)});
        ymax = std::max(ymax, y);
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
      }
      const int dash = 1 + dash_of_series[j]++;  // repeats of one series: same colour, other dashes
      panel.plots.push_back(fmt::format("'{}.dat' index {} using 1:2 with {} lw {} dt {} lc rgb \"{}\" notitle",
                                        spec.id, idx, timeline ? "steps" : "lines", line_width(timeline, j), dash, series_color(j)));
      in_legend[j] = true;
      if (!mark.empty()) {
        const auto& last = c.points.back();
        panel.setup.push_back(fmt::format("set label {} at first {:.6g}, first {:.6g} left offset 0.6,0 font \",9.5\" "
                                          "tc rgb \"#B00000\" point pt 2 ps 1.5 lc rgb \"{}\"",
                                          gp_quote(mark), last.first, last.second, series_color(j)));
      }
    }
    for (const RunRow* r : not_run) {
      if (!(key_of(*r, spec.facet) == facet)) continue;
      ctx.account_run(*r, ptitle, spec.series.empty() ? "" : value_text(key_of(*r, spec.series)), "", "not run",
                      "planned, never run");
      missing_notes.push_back(fmt::format("{}{} not run", ptitle.empty() ? "" : ptitle + ": ",
                                          ctx.series_name(key_of(*r, spec.series))));
    }
    if (std::isfinite(xmin)) {
      panel.setup.push_back(fmt::format("set xrange [{:.6g}:{:.6g}]", xmin, xmax > xmin ? xmax : xmin + 1));
      if (timeline) panel.setup.push_back(fmt::format("set yrange [0:{:.6g}]", ymax > 0 ? ymax * 1.08 : 1.0));
    }
    panel.setup.push_back("set grid xtics ytics lc rgb \"#e0e0e0\" lt 1");
    out.script.panels.push_back(std::move(panel));
  }
  if (facet_values.empty()) out.script.panels.push_back(PanelScript{"", xlabel, ylabel, {}, {}});
  for (std::size_t j = 0; j < series_values.size(); ++j)
    if (!spec.series.empty() || in_legend[j])
      out.script.legend.push_back({ctx.series_name(series_values[j]) + (in_legend[j] ? "" : " (no data)"),
                                   LegendEntry::Sample::Line, series_color(j), 0, line_width(timeline, j), 1});
  std::vector<std::string> extra;
  if (!missing_notes.empty()) {
    std::string text;
    for (const std::string& n : missing_notes) text += (text.empty() ? "" : "; ") + n;
    extra.push_back("Missing curves: " + text + ".");
  }
  out.data = dat.text();
  ctx.finish(out, extra);
  return out;
}

}  // namespace jenga::harness
