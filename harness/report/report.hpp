// What `jenga status` and `jenga report` print: views of the index, written to the stream
// given (never to stdout directly), as aligned text or Markdown. Counting is done in SQL.
#pragma once

#include "harness/report/text_table.hpp"
#include "harness/store/store.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace jenga::harness {

struct StatusOptions {
  RunFilter filter;              // which runs count (experiment, profile, status)
  bool list_not_ok = false;      // also list the runs that did not end ok, with their messages
  std::size_t max_listed = 50;   // of those, at most this many
  TableFormat format = TableFormat::Text;
};

// Experiments x status counts, with a total column and a total row; then, if asked, the
// runs whose status is not ok (experiment, key, status, message, log).
void render_status_table(Store& store, std::ostream& out, const StatusOptions& options = {});

struct ReportOptions {
  TableFormat format = TableFormat::Text;
  // Summary values shown as columns; empty: those present, peak memory and step time first.
  std::vector<std::string> summary_columns;
  std::size_t max_summary_columns = 6;  // when chosen automatically
};

// One experiment, one row per run: the parameters that vary across its runs, status, key
// summary values, and the message of runs that did not end ok. Parameters shared by every run
// are stated once above the table.
void render_report(Store& store, const std::string& experiment, std::ostream& out, const ReportOptions& options = {});
void render_report_markdown(Store& store, const std::string& experiment, std::ostream& out);

// Statuses in the order tables show them: ok first, then the failures from mildest.
int status_rank(const std::string& status);

// A number as a table shows it: up to 6 significant digits, no exponent below 1e6.
std::string format_value(double v);

}  // namespace jenga::harness
