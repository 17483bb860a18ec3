// Unicode character classes for the tokenizer.json pre-tokenizer regexes: letters (\p{L}), numbers
// (\p{N}), whitespace (\s) and word characters (\w), from ranges generated into unicode_tables.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace jenga::core::unicode {

enum Class : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

struct ClassRange {
  char32_t first, last;
  uint8_t cls;
};
struct Range {
  char32_t first, last;
};

extern const ClassRange kClassRanges[];
extern const size_t kClassRangeCount;
extern const Range kWordRanges[];
extern const size_t kWordRangeCount;

// The class of a codepoint (kOther for unassigned ones and for anything above U+10FFFF).
Class class_of(char32_t cp);
// Rust regex's \w (added tokens' single_word looks at the neighbouring characters).
bool is_word(char32_t cp);

}  // namespace jenga::core::unicode
