// `jenga table`: tables declared in experiment specs, from the run index, written as Markdown,
// CSV and LaTeX (booktabs) to <out_dir>/<id>.{md,csv,tex} with <id>.sources.txt beside them.
// A cell without a value shows "OOM" when its run ran out of memory and "—" otherwise, with a
// note saying why; nothing is filled in.
#pragma once

#include "harness/plot/select.hpp"
#include "harness/spec/experiment.hpp"
#include "harness/store/store.hpp"

#include <string>
#include <vector>

namespace jenga::harness {

struct TableCell {
  enum class Kind { Key, Value, Ratio, Missing };
  Kind kind = Kind::Missing;
  std::string text;  // Key: label; Value: formatted number; Ratio: "1.93" (× added per format); Missing: "OOM"/"—"
};

struct TableSource {
  std::string row, column, status, value, key, log, note;
};

struct TableData {
  std::string id, title, caption;
  std::string provenance;                      // hardware and experiment, one line
  std::vector<std::string> header;             // key columns first
  std::size_t key_columns = 1;
  // Optional two-level header (LaTeX): groups spanning value columns, and each column's short
  // title under its group. Markdown and CSV use `header`, which says both.
  std::vector<std::pair<std::string, std::size_t>> groups;
  std::vector<std::string> header_short;
  std::vector<std::vector<TableCell>> rows;
  std::vector<std::string> notes;              // what the marks mean, why cells are missing
  std::vector<TableSource> sources;
  std::vector<std::string> warnings;
};

// The table of `spec` from the runs of `set` (pivot: row keys x column -> value; vs_baseline:
// each ratio's value per column value plus its ratio to the baseline column).
TableData build_table(const RunSet& set, const TableSpec& spec);

std::string to_markdown(const TableData& t);
std::string to_csv(const TableData& t);
std::string to_latex(const TableData& t);
std::string to_sources(const TableData& t, const Experiment& exp, const std::string& repo_root = {});

struct TableOptions {
  std::string repo_root = ".";  // configs/profiles/ for planned runs
  std::string out_dir;          // default <repo_root>/tables
  std::string profile;          // only runs of this profile ("" = all)
};

struct TableRef {
  const Experiment* experiment = nullptr;
  const TableSpec* table = nullptr;
};

struct TableResult {
  std::string experiment, id;
  std::vector<std::string> files;
  std::vector<std::string> warnings;
  std::string error;
};

// Tables whose id, experiment name or paper id (e.g. "Table 6") is in `names`; all when empty.
// Error for a name that matches nothing.
std::vector<TableRef> select_tables(const std::vector<Experiment>& experiments, const std::vector<std::string>& names);

// Writes each table's four files; a table that fails is reported in its result.
std::vector<TableResult> write_tables(const Store& store, const std::vector<TableRef>& tables, const TableOptions& opt);

}  // namespace jenga::harness
