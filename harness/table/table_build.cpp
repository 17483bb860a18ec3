// build_table: grids of cells (plot/grid.hpp) laid out as rows of text cells.
#include "harness/common/error.hpp"
#include "harness/plot/grid.hpp"
#include "harness/plot/labels.hpp"
#include "harness/table/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace jenga::harness {

namespace {

class Builder {
 public:
  Builder(const RunSet& set, const TableSpec& spec) : set_(set), spec_(spec) {
    row_keys_ = spec.row_keys.empty() ? std::vector<std::string>{spec.rows} : spec.row_keys;
    dims_ = row_keys_;
    dims_.push_back(spec.columns);
  }

  TableData build() {
    t_.id = spec_.id;
    t_.title = spec_.title.empty() ? spec_.id : spec_.title;
    t_.caption = spec_.caption;
    for (const std::string& k : row_keys_) t_.header.push_back(name_of(k));
    t_.key_columns = row_keys_.size();
    if (spec_.type == "vs_baseline")
      build_vs_baseline();
    else if (spec_.type == "pivot" || spec_.type.empty())
      build_pivot();
    else
      throw Error("table " + spec_.id + ": unknown type '" + spec_.type + "' (pivot, vs_baseline)");
    finish();
    return std::move(t_);
  }

 private:
  std::string name_of(const std::string& key) const {
    const auto it = spec_.labels.find(key);
    return it != spec_.labels.end() ? it->second : humanize(key);
  }

  std::string format_value(double v, const std::string& format) const {
    try {
      return fmt::format(fmt::runtime(format), v);
    } catch (const fmt::format_error& e) {
      throw Error("table " + spec_.id + ": format \"" + format + "\" does not take a number: " + e.what());
    }
  }

  Grid grid(const std::string& value) {
    Grid g = build_grid(set_, GridSpec{dims_, value, spec_.filter});
    for (const std::string& n : g.notes) t_.warnings.push_back(n);
    return g;
  }

  // Row coordinates present in any of the grids, in axis order.
  std::vector<std::vector<Json>> row_coords(const std::vector<const Grid*>& grids) const {
    std::vector<std::vector<Json>> out;
    const Grid& g0 = *grids.front();
    const std::size_t nk = row_keys_.size();
    std::vector<std::size_t> idx(nk, 0);
    for (std::size_t d = 0; d < nk; ++d)
      if (g0.axes[d].empty()) return out;
    while (true) {
      std::vector<Json> row(nk);
      for (std::size_t d = 0; d < nk; ++d) row[d] = g0.axes[d][idx[d]];
      bool present = false;
      for (const Grid* g : grids)
        for (const Json& c : g->axes[nk]) {
          std::vector<Json> at = row;
          at.push_back(c);
          if (g->at(at) != nullptr) present = true;
        }
      if (present) out.push_back(row);
      bool done = true;
      for (std::size_t d = nk; d-- > 0;) {
        if (++idx[d] < g0.axes[d].size()) {
          done = false;
          break;
        }
        idx[d] = 0;
      }
      if (done) break;
    }
    return out;
  }

  std::vector<TableCell> key_cells(const std::vector<Json>& row) const {
    std::vector<TableCell> cells;
    for (std::size_t d = 0; d < row.size(); ++d)
      cells.push_back({TableCell::Kind::Key, value_label(row_keys_[d], row[d], spec_.labels)});
    return cells;
  }

  std::string row_text(const std::vector<Json>& row) const {
    std::string s;
    for (const Json& v : row) s += (s.empty() ? "" : " / ") + value_text(v);
    return s;
  }

  // The cell's text, and its runs into the sources.
  TableCell value_cell(const Cell* c, double scale, const std::string& format, const std::string& row,
                       const std::string& column) {
    if (c == nullptr) {
      ++missing_["no run"];
      return {TableCell::Kind::Missing, "—"};
    }
    for (const CellSource& s : c->sources) {
      const bool drawn = c->status == "ok" && s.run->status == "ok" && s.value;
      add_source(*s.run, row, column,
                 drawn ? format_value(*s.value * scale, format) : c->status == "ok" ? "(not used)" : cell_mark(c->status),
                 c->status == "ok" ? c->note : c->note);
    }
    if (c->value) return {TableCell::Kind::Value, format_value(*c->value * scale, format)};
    if (c->status == "oom") {
      oom_ = true;
      return {TableCell::Kind::Missing, "OOM"};
    }
    ++missing_[c->status];
    return {TableCell::Kind::Missing, "—"};
  }

  void add_source(const RunRow& run, const std::string& row, const std::string& column, const std::string& value,
                  const std::string& note) {
    t_.sources.push_back({row, column, run.status, value, run.key, run.log_path.empty() ? "(no log)" : run.log_path, note});
    if (seen_.insert(run.key).second && !run.provenance.empty()) measured_.push_back(&run);
  }

  void build_pivot() {
    const Grid g = grid(spec_.value);
    const auto& cols = g.axes.back();
    const std::string unit = unit_of(spec_.value, spec_.scale, g.unit);
    for (const Json& c : cols)
      t_.header.push_back(spec_.columns.empty() ? name_of(spec_.value) + (unit.empty() ? "" : " (" + unit + ")")
                                                : value_label(spec_.columns, c, spec_.labels));
    for (const auto& row : row_coords({&g})) {
      std::vector<TableCell> cells = key_cells(row);
      for (const Json& c : cols) {
        std::vector<Json> at = row;
        at.push_back(c);
        cells.push_back(value_cell(g.at(at), spec_.scale, spec_.format, row_text(row), value_text(c)));
      }
      t_.rows.push_back(std::move(cells));
    }
    if (!spec_.columns.empty() && !unit.empty()) t_.notes.push_back("Values in " + unit + ".");
  }

  void build_vs_baseline() {
    if (spec_.columns.empty() || spec_.baseline.empty() || spec_.ratios.empty())
      throw Error("table " + spec_.id + ": vs_baseline needs `columns`, `baseline` and `ratios`");
    std::vector<Grid> grids;
    for (const TableRatio& r : spec_.ratios) grids.push_back(grid(r.value));
    std::vector<const Grid*> gp;
    for (const Grid& g : grids) gp.push_back(&g);
    // Methods: the baseline first, then the others in declared order.
    std::vector<Json> methods;
    std::optional<Json> base;
    for (const Grid& g : grids)
      for (const Json& c : g.axes.back()) {
        if (value_text(c) == spec_.baseline) base = c;
        if (std::find(methods.begin(), methods.end(), c) == methods.end()) methods.push_back(c);
      }
    methods = order_values(set_.experiment(), spec_.columns, methods);
    if (!base) {
      if (!methods.empty())
        t_.warnings.push_back(fmt::format("baseline '{}' has no runs; ratios are all missing", spec_.baseline));
      base = Json(spec_.baseline);
    }
    methods.erase(std::remove(methods.begin(), methods.end(), *base), methods.end());
    methods.insert(methods.begin(), *base);

    for (std::size_t q = 0; q < spec_.ratios.size(); ++q) {
      const TableRatio& r = spec_.ratios[q];
      const std::string unit = r.unit.empty() ? unit_of(r.value, r.scale, grids[q].unit) : r.unit;
      const std::string quantity = name_of(r.value) + (unit.empty() ? "" : " (" + unit + ")");
      const std::string label = r.label.empty() ? "ratio" : r.label;
      t_.groups.emplace_back(quantity, methods.size());
      for (const Json& m : methods) {
        t_.header.push_back(quantity + ", " + value_label(spec_.columns, m, spec_.labels));
        t_.header_short.push_back(value_label(spec_.columns, m, spec_.labels));
      }
      t_.groups.emplace_back(label, methods.size() - 1);
      for (std::size_t i = 1; i < methods.size(); ++i) {
        t_.header.push_back(label + ", " + value_label(spec_.columns, methods[i], spec_.labels));
        t_.header_short.push_back(value_label(spec_.columns, methods[i], spec_.labels));
      }
    }
    for (std::size_t k = 0; k < row_keys_.size(); ++k) t_.header_short.insert(t_.header_short.begin() + static_cast<long>(k), t_.header[k]);
    bool undefined_ratio = false;
    for (const auto& row : row_coords(gp)) {
      std::vector<TableCell> cells = key_cells(row);
      for (std::size_t q = 0; q < spec_.ratios.size(); ++q) {
        const TableRatio& r = spec_.ratios[q];
        std::vector<std::optional<double>> v;
        for (const Json& m : methods) {
          std::vector<Json> at = row;
          at.push_back(m);
          const Cell* c = grids[q].at(at);
          cells.push_back(value_cell(c, r.scale, r.format, row_text(row), value_text(m) + " " + r.value));
          v.push_back(c != nullptr && c->value ? std::optional<double>(*c->value) : std::nullopt);
        }
        for (std::size_t i = 1; i < methods.size(); ++i) {
          if (v[0] && v[i] && *v[0] > 0 && *v[i] > 0) {
            const double ratio = r.higher_is_better ? *v[i] / *v[0] : *v[0] / *v[i];
            cells.push_back({TableCell::Kind::Ratio, fmt::format("{:.2f}", ratio)});
          } else {
            undefined_ratio = true;
            cells.push_back({TableCell::Kind::Missing, "—"});
          }
        }
      }
      t_.rows.push_back(std::move(cells));
    }
    std::string how;
    for (const TableRatio& r : spec_.ratios)
      how += (how.empty() ? "" : "; ") +
             fmt::format("{} = {}", r.label.empty() ? "ratio" : r.label,
                         r.higher_is_better ? "method / " + spec_.baseline : spec_.baseline + " / method");
    t_.notes.push_back("Ratios against " + spec_.baseline + ": " + how + ".");
    if (undefined_ratio) t_.notes.push_back("A ratio is — where either run has no value.");
  }

  void finish() {
    if (oom_) t_.notes.push_back("OOM = the run ran out of GPU memory.");
    if (!missing_.empty()) {
      std::string why;
      for (const auto& [status, n] : missing_) {
        std::string what = status == kNotRun ? "planned, not run yet"
                           : status == "no run" ? "no run planned or logged"
                           : status == "no value" ? "run ended ok without this value"
                                                  : "run ended " + status;
        why += (why.empty() ? "" : "; ") + fmt::format("{} cell{}: {}", n, n == 1 ? "" : "s", what);
      }
      t_.notes.push_back("— = no value (" + why + ").");
    }
    const std::string hw = set_.hardware(measured_);
    t_.provenance = (hw.empty() ? std::string("Hardware not recorded") : "Measured on " + hw) + "; experiment " +
                    set_.experiment().name;
    std::string paper = spec_.paper;
    if (paper.empty())
      for (const std::string& p : set_.experiment().paper) paper += (paper.empty() ? "" : ", ") + p;
    if (!paper.empty()) t_.provenance += " (paper: " + paper + ")";
  }

  const RunSet& set_;
  const TableSpec& spec_;
  std::vector<std::string> row_keys_, dims_;
  TableData t_;
  std::map<std::string, int> missing_;
  bool oom_ = false;
  std::set<std::string> seen_;
  std::vector<const RunRow*> measured_;
};

}  // namespace

TableData build_table(const RunSet& set, const TableSpec& spec) { return Builder(set, spec).build(); }

}  // namespace jenga::harness
