#include "harness/ingest/step_scan.hpp"

#include <cstring>

namespace jenga::harness {

namespace {

// Beyond this the scanner gives up (the authority, nlohmann, then decides).
constexpr int kMaxDepth = 64;

// A validating recursive-descent scanner over bytes. Every function returns false both for
// "invalid" and for "not sure"; the caller only ever acts on true.
class Scanner {
 public:
  Scanner(const char* begin, const char* end)
      : p_(reinterpret_cast<const unsigned char*>(begin)), end_(reinterpret_cast<const unsigned char*>(end)) {}

  const char* pos() const { return reinterpret_cast<const char*>(p_); }
  bool at_end() const { return p_ == end_; }
  bool peek(unsigned char c) const { return p_ < end_ && *p_ == c; }
  void advance() { ++p_; }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool value(int depth) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string(nullptr);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(nullptr);
    }
  }

  // A string starting at '"'; sets *escaped when it holds a backslash escape.
  bool string(bool* escaped) {
    ++p_;  // opening quote
    for (;;) {
      // Plain ASCII runs dominate; keep that loop tight.
      while (p_ < end_ && *p_ >= 0x20 && *p_ < 0x80 && *p_ != '"' && *p_ != '\\') ++p_;
      if (p_ >= end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (escaped) *escaped = true;
        if (!escape()) return false;
      } else if (c < 0x20) {
        return false;  // control characters must be escaped
      } else if (!utf8()) {
        return false;
      }
    }
  }

  // A number in JSON grammar. Integers: *int_value gets the value when it has <= 18 digits
  // (else the scan gives up, as it does for floats that might overflow to infinity, which
  // nlohmann rejects). With int_value set, only integers are accepted.
  bool number(std::int64_t* int_value) {
    bool neg = false;
    if (peek('-')) {
      neg = true;
      ++p_;
    }
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    int int_digits = 0;
    std::int64_t v = 0;
    if (*p_ == '0') {
      ++p_;
      int_digits = 1;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        if (int_digits < 19) v = v * 10 + (*p_ - '0');
        ++int_digits;
        ++p_;
      }
    }
    const bool int_zero = v == 0;
    bool is_int = true;
    if (peek('.')) {
      is_int = false;
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    long exp = 0;
    if (peek('e') || peek('E')) {
      is_int = false;
      ++p_;
      bool exp_neg = false;
      if (peek('+') || peek('-')) exp_neg = *p_++ == '-';
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      int exp_digits = 0;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        if (++exp_digits > 6) return false;  // not sure: leave it to nlohmann
        exp = exp * 10 + (*p_ - '0');
        ++p_;
      }
      if (exp_neg) exp = -exp;
    }
    if (is_int) {
      if (int_digits > 18) return false;  // nlohmann may turn it into a float (or overflow)
      if (int_value) *int_value = neg ? -v : v;
      return true;
    }
    if (int_value) return false;
    // Upper bound of the decimal exponent; beyond ~1e300 strtod may give inf.
    const long magnitude = (int_zero ? 0 : int_digits - 1) + exp;
    return magnitude <= 300;
  }

  bool object(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '{'
    skip_ws();
    if (peek('}')) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!peek('"') || !string(nullptr)) return false;
      skip_ws();
      if (!peek(':')) return false;
      ++p_;
      skip_ws();
      if (!value(depth)) return false;
      skip_ws();
      if (peek(',')) {
        ++p_;
        skip_ws();
        continue;
      }
      if (peek('}')) {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '['
    skip_ws();
    if (peek(']')) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      skip_ws();
      if (peek(',')) {
        ++p_;
        skip_ws();
        continue;
      }
      if (peek(']')) {
        ++p_;
        return true;
      }
      return false;
    }
  }

 private:
  bool literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  static int hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // \uXXXX at p_ (p_ on the backslash); the code unit, or -1.
  long code_unit() {
    if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return -1;
    long cu = 0;
    for (int i = 2; i < 6; ++i) {
      const int h = hex(p_[i]);
      if (h < 0) return -1;
      cu = cu * 16 + h;
    }
    p_ += 6;
    return cu;
  }

  bool escape() {
    if (end_ - p_ < 2) return false;
    switch (p_[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p_ += 2;
        return true;
      case 'u': {
        const long cu = code_unit();
        if (cu < 0) return false;
        if (cu >= 0xDC00 && cu <= 0xDFFF) return false;  // lone low surrogate
        if (cu >= 0xD800 && cu <= 0xDBFF) {               // must pair with a low surrogate
          const long lo = code_unit();
          return lo >= 0xDC00 && lo <= 0xDFFF;
        }
        return true;
      }
      default:
        return false;
    }
  }

  // One multi-byte UTF-8 sequence (Unicode 3-7: no overlongs, surrogates or > U+10FFFF).
  bool utf8() {
    const unsigned char c = *p_;
    int n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c == 0xE0) {
      n = 2, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      n = 2;
    } else if (c == 0xED) {
      n = 2, hi = 0x9F;
    } else if (c == 0xF0) {
      n = 3, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      n = 3;
    } else if (c == 0xF4) {
      n = 3, hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ <= n) return false;
    if (p_[1] < lo || p_[1] > hi) return false;
    for (int i = 2; i <= n; ++i)
      if (p_[i] < 0x80 || p_[i] > 0xBF) return false;
    p_ += n + 1;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

bool key_is(const char* key_begin, const char* key_end, const char* word) {
  const std::size_t n = std::strlen(word);
  return static_cast<std::size_t>(key_end - key_begin) == n && std::memcmp(key_begin, word, n) == 0;
}

}  // namespace

bool scan_step_record(std::string_view line, ScannedStep& out) {
  // Leading blanks as parse_record skips them; anything else before '{' makes it free text.
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size() || line[i] != '{') return false;
  const char* const obj = line.data() + i;
  Scanner s(obj, line.data() + line.size());
  s.advance();
  s.skip_ws();
  if (s.peek('}')) return false;  // {} is no step record

  // The "event" member to cut: from `cut_begin` to `cut_end`, its separator included.
  const char* cut_begin = nullptr;
  const char* cut_end = nullptr;
  const char* prev_value_end = nullptr;  // end of the previous member's value
  bool cut_pending = false;              // event was the first member: the cut ends at the next key
  int n_event = 0, n_step = 0, n_phase = 0, n_mem = 0, n_members = 0;
  std::int64_t step = 0;
  for (;;) {
    const char* key_begin = s.pos();
    if (cut_pending) {
      cut_end = key_begin;
      cut_pending = false;
    }
    bool escaped = false;
    if (!s.peek('"') || !s.string(&escaped)) return false;
    if (escaped) return false;  // "ev\u0065nt" is "event": let nlohmann unescape
    const char* k0 = key_begin + 1;
    const char* k1 = s.pos() - 1;
    s.skip_ws();
    if (!s.peek(':')) return false;
    s.advance();
    s.skip_ws();
    const char* value_begin = s.pos();
    if (key_is(k0, k1, "event")) {
      ++n_event;
      if (!s.peek('"') || !s.string(nullptr)) return false;
      if (std::string_view(value_begin, static_cast<std::size_t>(s.pos() - value_begin)) != "\"step\"") return false;
      if (n_members == 0) {
        cut_begin = key_begin;
        cut_pending = true;
      } else {
        cut_begin = prev_value_end;
        cut_end = s.pos();
      }
    } else if (key_is(k0, k1, "step")) {
      ++n_step;
      if (!s.number(&step)) return false;
    } else if (key_is(k0, k1, "phase_ms") || key_is(k0, k1, "mem_mib")) {
      ++(k1 - k0 == 8 ? n_phase : n_mem);
      if (!s.peek('{') || !s.value(0)) return false;
    } else if (!s.value(0)) {
      return false;
    }
    ++n_members;
    prev_value_end = s.pos();
    s.skip_ws();
    if (s.peek(',')) {
      s.advance();
      s.skip_ws();
      continue;
    }
    if (!s.peek('}')) return false;
    s.advance();
    break;
  }
  const char* const obj_end = s.pos();
  s.skip_ws();
  if (!s.at_end()) return false;
  // Duplicate keys: nlohmann keeps the last; not worth mirroring here.
  if (n_event != 1 || n_step != 1 || n_phase > 1 || n_mem > 1) return false;
  if (cut_pending) return false;  // event was the only member (cannot be: step is required)

  out.step = step;
  out.data.clear();
  out.data.reserve(static_cast<std::size_t>(obj_end - obj));
  out.data.append(obj, cut_begin);
  out.data.append(cut_end, obj_end);
  return true;
}

int json_nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest) deepest = depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace jenga::harness
