#include "text/pretokenize.hpp"

#include "text/unicode_tables.hpp"
#include "text/utf8.hpp"

namespace jenga::core::pretokenize {

const char* const kGpt2Pattern = R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
const char* const kLlama3Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kOther;
using unicode::kSpace;

struct Ch {
  char32_t cp;
  size_t len;
  unicode::Class cls;
};

// The text being split, read one character at a time (positions are byte offsets).
struct Text {
  std::string_view s;

  size_t size() const { return s.size(); }
  Ch at(size_t i) const {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return {b, 1, unicode::class_of(b)};
    const auto d = utf8::decode(s, i);
    return {d.cp, d.len, d.cp == utf8::kInvalid ? kOther : unicode::class_of(d.cp)};
  }
  // End of the run of class `cls` that starts at i.
  size_t run(size_t i, unicode::Class cls) const {
    while (i < size()) {
      const Ch c = at(i);
      if (c.cls != cls) break;
      i += c.len;
    }
    return i;
  }
  bool line_break(size_t i) const { return i < size() && (s[i] == '\r' || s[i] == '\n'); }
};

// `\s+(?!\S)|\s+` at whitespace i: the run, less its last character when a non-space follows
// (that character then prefixes the next piece, as " word"), unless the run is one character.
size_t spaces(const Text& t, size_t i) {
  size_t last = i, j = i;
  while (j < t.size()) {
    const Ch c = t.at(j);
    if (c.cls != kSpace) break;
    last = j;
    j += c.len;
  }
  return j == t.size() || last == i ? j : last;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(const Text& t, size_t i) {
  const std::string_view s = t.s;
  if (s[i] == '\'' && i + 1 < s.size()) {  // contractions, case-sensitive
    const char a = s[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < s.size() && (((a == 'r' || a == 'v') && s[i + 2] == 'e') || (a == 'l' && s[i + 2] == 'l'))) return i + 3;
  }
  // Letters, numbers or other characters (one class per piece), after an optional space.
  if (s[i] == ' ' && i + 1 < s.size()) {
    const Ch d = t.at(i + 1);
    if (d.cls != kSpace) return t.run(i + 1 + d.len, d.cls);
  }
  const Ch c = t.at(i);
  if (c.cls != kSpace) return t.run(i + c.len, c.cls);
  return spaces(t, i);
}

// Case folding for the contractions under (?i:): ASCII, and U+017F (long s) folds to 's'.
char32_t fold(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  return cp == 0x17F ? U's' : cp;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t match_llama3(const Text& t, size_t i) {
  const size_t n = t.size();
  const Ch c = t.at(i);
  if (c.cp == '\'' && i + 1 < n) {  // contractions, any case
    const Ch a = t.at(i + 1);
    const char32_t fa = fold(a.cp);
    if (fa == 's' || fa == 't' || fa == 'm' || fa == 'd') return i + 1 + a.len;
    if (i + 1 + a.len < n) {
      const Ch b = t.at(i + 1 + a.len);
      const char32_t fb = fold(b.cp);
      if (((fa == 'r' || fa == 'v') && fb == 'e') || (fa == 'l' && fb == 'l')) return i + 1 + a.len + b.len;
    }
  }
  // Letters, after at most one character that is no line break, letter or number.
  if (c.cls == kLetter) return t.run(i + c.len, kLetter);
  if (c.cls != kNumber && c.cp != '\r' && c.cp != '\n' && i + c.len < n) {
    const Ch d = t.at(i + c.len);
    if (d.cls == kLetter) return t.run(i + c.len + d.len, kLetter);
  }
  if (c.cls == kNumber) {  // at most three digits
    size_t j = i + c.len;
    for (int k = 1; k < 3 && j < n; ++k) {
      const Ch d = t.at(j);
      if (d.cls != kNumber) break;
      j += d.len;
    }
    return j;
  }
  // Other characters after an optional space, with the line breaks that follow them.
  size_t j = n + 1;
  if (c.cp == ' ' && i + 1 < n && t.at(i + 1).cls == kOther)
    j = t.run(i + 1, kOther);
  else if (c.cls == kOther)
    j = t.run(i + c.len, kOther);
  if (j <= n) {
    while (t.line_break(j)) ++j;
    return j;
  }
  // Whitespace: `\s*[\r\n]+` takes the run up to its last line break.
  size_t after_break = 0;
  for (size_t k = i; k < n;) {
    const Ch d = t.at(k);
    if (d.cls != kSpace) break;
    k += d.len;
    if (d.cp == '\r' || d.cp == '\n') after_break = k;
  }
  return after_break ? after_break : spaces(t, i);
}

}  // namespace

std::optional<Pattern> recognise(const std::string& regex) {
  if (regex == kGpt2Pattern) return Pattern::Gpt2;
  if (regex == kLlama3Pattern) return Pattern::Llama3;
  return std::nullopt;
}

void split(Pattern pattern, std::string_view text, std::vector<std::string_view>& out) {
  const Text t{text};
  for (size_t i = 0; i < text.size();) {
    const size_t j = pattern == Pattern::Gpt2 ? match_gpt2(t, i) : match_llama3(t, i);
    out.push_back(text.substr(i, j - i));
    i = j;
  }
}

}  // namespace jenga::core::pretokenize
