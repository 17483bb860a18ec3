#include "harness/report/text_table.hpp"

#include <algorithm>

namespace jenga::harness {

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // skip continuation bytes
  return n;
}

std::string one_line(const std::string& s, std::size_t max) {
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (points == max) {
        // Cut at a code point boundary, leaving room for the ellipsis.
        std::size_t cut = out.size(), dropped = 0;
        while (cut > 0 && dropped < 3) {
          --cut;
          if ((static_cast<unsigned char>(out[cut]) & 0xC0) != 0x80) ++dropped;
        }
        out.resize(cut);
        return out + "...";
      }
      ++points;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : s[i];
  }
  return out;
}

namespace {

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

void TextTable::write(std::ostream& out, TableFormat format) const {
  const std::size_t ncol = header.size();
  auto is_right = [&](std::size_t c) { return c < right.size() && right[c]; };
  auto cell = [](const std::vector<std::string>& row, std::size_t c) -> const std::string& {
    static const std::string empty;
    return c < row.size() ? row[c] : empty;
  };

  if (format == TableFormat::Markdown) {
    auto line = [&](const std::vector<std::string>& row) {
      out << '|';
      for (std::size_t c = 0; c < ncol; ++c) out << ' ' << markdown_cell(cell(row, c)) << " |";
      out << '\n';
    };
    line(header);
    out << '|';
    for (std::size_t c = 0; c < ncol; ++c) out << (is_right(c) ? " ---: |" : " --- |");
    out << '\n';
    for (const auto& row : rows) line(row);
    return;
  }

  std::vector<std::size_t> width(ncol, 0);
  for (std::size_t c = 0; c < ncol; ++c) {
    width[c] = display_width(header[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], display_width(cell(row, c)));
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (std::size_t c = 0; c < ncol; ++c) {
      const std::string& v = cell(row, c);
      const std::string gap(width[c] - display_width(v), ' ');
      if (c) text += "  ";
      text += is_right(c) ? gap + v : v + gap;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();  // an empty last cell leaves no tail
    out << text << '\n';
  };
  auto rule = [&] {
    std::size_t total = 0;
    for (std::size_t c = 0; c < ncol; ++c) total += width[c] + (c ? 2 : 0);
    out << std::string(total, '-') << '\n';
  };
  line(header);
  rule();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (r == rule_before_row) rule();
    line(rows[r]);
  }
}

}  // namespace jenga::harness
