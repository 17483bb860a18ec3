// A table of text cells written either aligned for a terminal or as a Markdown table.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace jenga::harness {

enum class TableFormat { Text, Markdown };

struct TextTable {
  std::vector<std::string> header;
  std::vector<bool> right;  // per column: right-aligned (numbers); missing entries mean left
  std::vector<std::vector<std::string>> rows;
  std::size_t rule_before_row = static_cast<std::size_t>(-1);  // a rule above this row (totals)

  void write(std::ostream& out, TableFormat format) const;
};

// Columns a string takes on a terminal: UTF-8 code points (no East Asian width rules).
std::size_t display_width(const std::string& s);

// One line of at most `max` code points: newlines and tabs become spaces, the rest is cut
// with "...".
std::string one_line(const std::string& s, std::size_t max);

}  // namespace jenga::harness
