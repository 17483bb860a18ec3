// Plain aligned text tables for the CLI's output (columns padded to their widest cell).
#pragma once

#include <string>
#include <vector>

namespace jenga::cli {

using Row = std::vector<std::string>;

// Rows (the first is the header) as lines with two spaces between columns, trailing spaces
// trimmed. Rows may be shorter than the header.
std::string format_table(const std::vector<Row>& rows);

}  // namespace jenga::cli
