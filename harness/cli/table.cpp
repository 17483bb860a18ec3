#include "harness/cli/table.hpp"

#include <algorithm>

namespace jenga::cli {

std::string format_table(const std::vector<Row>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    if (r.size() > width.size()) width.resize(r.size(), 0);
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace jenga::cli
