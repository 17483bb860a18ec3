// Lookups in the generated ranges of unicode_tables.cpp: ASCII by rule, binary search above.
#include "text/unicode_tables.hpp"

#include <algorithm>

namespace jenga::core::unicode {
namespace {

template <typename R>
const R* find(const R* begin, size_t count, char32_t cp) {
  const R* end = begin + count;
  const R* it = std::upper_bound(begin, end, cp, [](char32_t c, const R& r) { return c < r.first; });
  if (it == begin) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

// ASCII, which nearly all text is, without searching (and without static initialisation).
constexpr Class ascii_class(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? kLetter
         : c >= '0' && c <= '9'                          ? kNumber
         : (c >= 0x09 && c <= 0x0D) || c == ' '          ? kSpace
                                                         : kOther;
}

}  // namespace

Class class_of(char32_t cp) {
  if (cp < 128) return ascii_class(cp);
  const ClassRange* r = find(kClassRanges, kClassRangeCount, cp);
  return r ? static_cast<Class>(r->cls) : kOther;
}

bool is_word(char32_t cp) { return cp <= 0x10FFFF && find(kWordRanges, kWordRangeCount, cp) != nullptr; }

}  // namespace jenga::core::unicode
