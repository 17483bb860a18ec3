// Choosing tables by name and writing their files.
#include "harness/common/error.hpp"
#include "harness/spec/select_outputs.hpp"
#include "harness/table/table.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

namespace fs = std::filesystem;

namespace jenga::harness {

namespace {

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("table: cannot write " + tmp.string());
    f << text;
    if (!f.flush()) throw Error("table: cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("table: cannot rename " + tmp.string() + ": " + ec.message());
}

}  // namespace

std::vector<TableRef> select_tables(const std::vector<Experiment>& experiments, const std::vector<std::string>& names) {
  std::vector<TableRef> out;
  for (const auto& [e, t] : select_outputs(experiments, names, &Experiment::tables, "table")) out.push_back({e, t});
  return out;
}

std::vector<TableResult> write_tables(const Store& store, const std::vector<TableRef>& tables, const TableOptions& opt) {
  const fs::path out_dir = opt.out_dir.empty() ? fs::path(opt.repo_root) / "tables" : fs::path(opt.out_dir);
  SelectOptions sel;
  sel.repo_root = opt.repo_root;
  sel.profile = opt.profile;
  std::map<const Experiment*, std::unique_ptr<RunSet>> sets;
  std::vector<TableResult> results;
  for (const TableRef& ref : tables) {
    TableResult r;
    r.experiment = ref.experiment->name;
    r.id = ref.table->id;
    try {
      auto& set = sets[ref.experiment];
      if (!set) set = std::make_unique<RunSet>(RunSet::load(store, *ref.experiment, sel));
      const TableData t = build_table(*set, *ref.table);
      r.warnings = set->warnings();
      r.warnings.insert(r.warnings.end(), t.warnings.begin(), t.warnings.end());
      std::error_code ec;
      fs::create_directories(out_dir, ec);
      if (ec) throw Error("table: cannot create " + out_dir.string() + ": " + ec.message());
      const std::vector<std::pair<std::string, std::string>> files = {
          {".md", to_markdown(t)}, {".csv", to_csv(t)}, {".tex", to_latex(t)}, {".sources.txt", to_sources(t, *ref.experiment, opt.repo_root)}};
      for (const auto& [ext, text] : files) {
        const fs::path p = out_dir / (t.id + ext);
        write_file(p, text);
        r.files.push_back(p.string());
      }
    } catch (const Error& e) {
      r.error = e.what();
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace jenga::harness
