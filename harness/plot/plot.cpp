#include "harness/plot/plot.hpp"

#include "harness/common/error.hpp"
#include "harness/spec/select_outputs.hpp"
#include "harness/plot/figure.hpp"
#include "harness/plot/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

namespace fs = std::filesystem;

namespace jenga::harness {

namespace {

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("plot: cannot write " + tmp.string());
    f << text;
    if (!f.flush()) throw Error("plot: cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("plot: cannot rename " + tmp.string() + ": " + ec.message());
}

std::string relative_to(const std::string& path, const std::string& root) {
  std::error_code ec;
  const fs::path rel = fs::relative(path, root, ec);
  return ec || rel.empty() || rel.string().rfind("..", 0) == 0 ? path : rel.string();
}

std::string sources_text(const FigureSpec& spec, const Experiment& exp, const RenderedFigure& r, const std::string& root) {
  std::string s;
  s += fmt::format("# {}: {}\n", spec.id, spec.title.empty() ? spec.id : spec.title);
  s += fmt::format("# experiment {} ({}), figure type {}\n", exp.name, relative_to(exp.file, root), spec.type);
  s += "# " + r.script.subtitle + "\n";
  if (!r.script.panels.empty() && !r.script.panels.front().ylabel.empty())
    s += "# value: " + r.script.panels.front().ylabel + "\n";
  s += "# One line per run behind a bar, point, cell or curve. A status other than ok means no value was\n"
       "# drawn there (the figure shows the mark in `value`). 'not run' runs are planned but have no log.\n";
  s += "panel\tseries\tx\tstatus\tvalue\trun_key\tlog\tnote\n";
  auto dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
  for (const SourceLine& l : r.sources)
    s += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", dash(l.panel), dash(l.series), dash(l.x), l.status,
                     dash(l.value), l.key, l.log, l.note);
  for (const std::string& w : r.warnings) s += "# warning: " + w + "\n";
  return s;
}

RenderedFigure render(const RunSet& set, const FigureSpec& spec) {
  if (spec.type == "grouped_bars" || spec.type == "stacked_bars") return render_bars(set, spec);
  if (spec.type == "lines") return render_lines(set, spec);
  if (spec.type == "heatmap") return render_heatmap(set, spec);
  if (spec.type == "loss_curve" || spec.type == "memory_timeline") return render_steps(set, spec);
  throw Error("plot: figure " + spec.id + " has unknown type '" + spec.type + "'");
}

struct Job {
  FigureResult* result;
  fs::path dir;
  std::string script;
  std::vector<fs::path> images;
};

void draw(Job& job, const PlotOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const GnuplotResult g = run_gnuplot(opt.gnuplot, job.script, job.dir.string());
  FigureResult& r = *job.result;
  if (g.timed_out) {
    r.error = "gnuplot did not finish in time on " + job.script;
  } else if (g.exit_code != 0) {
    r.error = fmt::format("gnuplot failed (exit {}) on {}: {}", g.exit_code, (job.dir / job.script).string(), g.output);
  } else {
    for (const fs::path& img : job.images) {
      std::error_code ec;
      const auto size = fs::file_size(img, ec);
      if (ec || size == 0) {
        r.error = "gnuplot wrote no " + img.string() + (g.output.empty() ? "" : ": " + g.output);
        break;
      }
      r.files.push_back(img.string());
    }
    // gnuplot's warnings (e.g. a range it had to widen) are worth a look, not a failure.
    std::size_t pos = 0;
    while (pos < g.output.size()) {
      const std::size_t nl = std::min(g.output.find('\n', pos), g.output.size());
      const std::string l = g.output.substr(pos, nl - pos);
      if (!l.empty()) r.warnings.push_back("gnuplot: " + l);
      pos = nl + 1;
    }
  }
  r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<FigureRef> select_figures(const std::vector<Experiment>& experiments,
                                      const std::vector<std::string>& names) {
  std::vector<FigureRef> out;
  for (const auto& [e, f] : select_outputs(experiments, names, &Experiment::figures, "figure")) out.push_back({e, f});
  return out;
}

std::vector<FigureResult> plot_figures(const Store& store, const std::vector<FigureRef>& figures,
                                       const PlotOptions& opt) {
  for (const std::string& f : opt.formats)
    if (f != "png" && f != "pdf" && f != "svg") throw Error("plot: unknown format '" + f + "' (png, pdf, svg)");
  if (opt.render && !figures.empty() && find_on_path(opt.gnuplot).empty())
    throw Error("plot: '" + opt.gnuplot + "' not found on PATH (Debian: apt-get install gnuplot-nox), or use --no-render");
  const fs::path out_dir = opt.out_dir.empty() ? fs::path(opt.repo_root) / "output_figures" : fs::path(opt.out_dir);

  std::vector<FigureResult> results(figures.size());
  std::vector<Job> jobs;
  std::map<const Experiment*, std::unique_ptr<RunSet>> sets;
  SelectOptions sel;
  sel.repo_root = opt.repo_root;
  sel.profile = opt.profile;
  for (std::size_t i = 0; i < figures.size(); ++i) {
    const Experiment& exp = *figures[i].experiment;
    const FigureSpec& spec = *figures[i].figure;
    FigureResult& r = results[i];
    r.experiment = exp.name;
    r.id = spec.id;
    r.group = spec.group.empty() ? exp.name : spec.group;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      auto& set = sets[&exp];
      if (!set) set = std::make_unique<RunSet>(RunSet::load(store, exp, sel));
      const RenderedFigure fig = render(*set, spec);
      r.warnings = set->warnings();
      r.warnings.insert(r.warnings.end(), fig.warnings.begin(), fig.warnings.end());
      const fs::path dir = out_dir / r.group;
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) throw Error("plot: cannot create " + dir.string() + ": " + ec.message());
      const std::vector<std::pair<std::string, std::string>> texts = {
          {spec.id + ".dat", fig.data},
          {spec.id + ".gp", compose_script(fig.script, opt.formats)},
          {spec.id + ".sources.txt", sources_text(spec, exp, fig, opt.repo_root)}};
      for (const auto& [name, text] : texts) {
        write_file(dir / name, text);
        r.files.push_back((dir / name).string());
      }
      Job job{&r, dir, spec.id + ".gp", {}};
      for (const std::string& f : opt.formats) {
        job.images.push_back(dir / (spec.id + "." + f));
        fs::remove(job.images.back(), ec);  // a failed redraw must not leave the old picture standing
      }
      if (opt.render) jobs.push_back(std::move(job));
    } catch (const Error& e) {
      r.error = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::size_t workers = std::min<std::size_t>(jobs.size(), static_cast<std::size_t>(opt.jobs > 0 ? opt.jobs : cores));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      try {
        draw(jobs[i], opt);
      } catch (const Error& e) {
        jobs[i].result->error = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return results;
}

}  // namespace jenga::harness
