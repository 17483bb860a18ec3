// UTF-8 decoding for the tokenizers: one character at a time, malformed bytes one at a time.
#pragma once

#include <cstddef>
#include <string_view>

namespace jenga::core::utf8 {

struct Char {
  char32_t cp;     // the codepoint; kInvalid for a byte that starts no well-formed sequence
  size_t len = 1;  // bytes taken (1 for an invalid byte)
};
inline constexpr char32_t kInvalid = 0xFFFFFFFF;

// The character at byte `i` of `s` (i < s.size()). Well-formed means what Rust's str accepts:
// shortest form, no surrogates, at most U+10FFFF; any other byte stands alone as kInvalid, so
// tokenizers still cover every byte of any input (HF's inputs are always valid UTF-8).
inline Char decode(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  char32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {kInvalid, 1};
  }
  if (i + n > s.size()) return {kInvalid, 1};
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {kInvalid, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalid, 1};
  return {cp, n};
}

// Appends the UTF-8 form of `cp` (a valid codepoint) to `out`.
template <typename String>
void append(String& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace jenga::core::utf8
