#include "harness/report/report.hpp"

#include <algorithm>
#include <iterator>
#include <map>

namespace jenga::harness {

int status_rank(const std::string& status) {
  static const char* const order[] = {"ok", "oom", "diverged", "error", "timeout", "crashed", "killed", "running"};
  for (int i = 0; i < static_cast<int>(std::size(order)); ++i)
    if (status == order[i]) return i;
  return static_cast<int>(std::size(order));  // unknown ones last (then alphabetically)
}

void render_status_table(Store& store, std::ostream& out, const StatusOptions& options) {
  const auto counts = store.status_counts(options.filter);
  if (counts.empty()) {
    out << "no runs in the index" << (options.filter.experiment.empty() && options.filter.profile.empty() &&
                                              options.filter.status.empty() && !options.filter.not_ok
                                          ? ""
                                          : " match the filter")
        << '\n';
    return;
  }

  std::vector<std::string> statuses;
  std::map<std::string, std::map<std::string, long>> table;  // experiment -> status -> n
  for (const auto& [experiment, status, n] : counts) {
    table[experiment][status] += n;
    if (std::find(statuses.begin(), statuses.end(), status) == statuses.end()) statuses.push_back(status);
  }
  std::sort(statuses.begin(), statuses.end(), [](const std::string& a, const std::string& b) {
    const int ra = status_rank(a), rb = status_rank(b);
    return ra != rb ? ra < rb : a < b;
  });

  TextTable t;
  t.header.push_back("experiment");
  t.right.push_back(false);
  for (const auto& s : statuses) {
    t.header.push_back(s);
    t.right.push_back(true);
  }
  t.header.push_back("total");
  t.right.push_back(true);
  std::map<std::string, long> column_total;
  long grand_total = 0;
  for (const auto& [experiment, by_status] : table) {
    std::vector<std::string> row{experiment};
    long total = 0;
    for (const auto& s : statuses) {
      const auto it = by_status.find(s);
      const long n = it == by_status.end() ? 0 : it->second;
      row.push_back(std::to_string(n));
      total += n;
      column_total[s] += n;
    }
    row.push_back(std::to_string(total));
    grand_total += total;
    t.rows.push_back(std::move(row));
  }
  {
    std::vector<std::string> row{options.format == TableFormat::Markdown ? "**total**" : "total"};
    for (const auto& s : statuses) row.push_back(std::to_string(column_total[s]));
    row.push_back(std::to_string(grand_total));
    t.rule_before_row = t.rows.size();
    t.rows.push_back(std::move(row));
  }
  t.write(out, options.format);

  if (!options.list_not_ok) return;
  const long not_ok = grand_total - column_total["ok"];
  if (not_ok == 0) return;
  RunFilter f = options.filter;
  f.not_ok = true;
  f.limit = options.max_listed;
  const auto runs = store.runs(f);
  out << '\n'
      << "runs not ok: " << not_ok
      << (static_cast<std::size_t>(not_ok) > runs.size() ? " (first " + std::to_string(runs.size()) + " listed)" : "")
      << "\n\n";
  TextTable l;
  l.header = {"experiment", "run", "status", "message", "log"};
  for (const auto& r : runs)
    l.rows.push_back({r.experiment, r.key, r.status, one_line(r.message, 80), r.log_path});
  l.write(out, options.format);
}

}  // namespace jenga::harness
