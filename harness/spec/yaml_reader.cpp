#include "harness/spec/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

namespace jenga::harness::yaml {
namespace {

// Beyond this depth a document is either absurd or an alias cycle (`&a [*a]`), which yaml-cpp
// builds as a real cycle; stop before the stack does.
constexpr int kMaxDepth = 64;
// Aliases share nodes, so a small file can name an exponentially large value ("billion
// laughs"); no parameter value is anywhere near this size.
constexpr std::size_t kMaxValueNodes = 100000;

enum class Kind { Null, Bool, Int, Float, String };

struct Typed {
  Kind kind = Kind::String;
  bool b = false;
  std::int64_t i = 0;
  double d = 0;
};

bool all_digits(const std::string& s, size_t from) {
  if (from >= s.size()) return false;
  return std::all_of(s.begin() + static_cast<long>(from), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// YAML 1.2 core schema float: [-+]? ( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool looks_float(const std::string& s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!all_digits(s, i)) return false;
    return true;
  }
  return i == n;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    if (c < 0x80) extra = 0;
    else if ((c >> 5) == 0x6) extra = 1;
    else if ((c >> 4) == 0xE) extra = 2;
    else if ((c >> 3) == 0x1E) extra = 3;
    else return false;
    for (size_t k = 1; k <= extra; ++k)
      if (i + k >= n || (static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += extra + 1;
  }
  return true;
}

std::string quote(const std::string& s) {
  std::string shown = s.size() > 40 ? s.substr(0, 37) + "..." : s;
  return "\"" + shown + "\"";
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

void rethrow_yaml(const std::string& file, const YAML::Exception& e) {
  Where w{file};
  if (e.mark.line >= 0 && e.mark.column >= 0 && !e.mark.is_null()) {
    w.line = e.mark.line + 1;
    w.column = e.mark.column + 1;
  }
  throw Error("YAML error: " + e.msg, w);
}

Node::Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path, Where fallback)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), fallback_(std::move(fallback)) {}

Where Node::where() const {
  // yaml-cpp marks an implicit null (`key:` with no value) at the next token, often on a later
  // line; the key (or enclosing node) is where a reader looks.
  if (is_null()) return fallback_;
  const YAML::Mark m = node_.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return fallback_;
  return Where{*file_, m.line + 1, m.column + 1};
}

bool Node::is_null() const { return !node_.IsDefined() || node_.IsNull(); }

void Node::fail(const std::string& message) const { throw Error(message, where()); }

void Node::expected(const std::string& expectation) const {
  fail((path_.empty() ? std::string("top level") : path_) + ": expected " + expectation + ", got " +
       describe());
}

Node Node::child(YAML::Node n, std::string path) const {
  return Node(std::move(n), file_, std::move(path), where());
}

namespace {
Typed classify(const Node& n) {
  const YAML::Node& raw = n.raw();
  Typed t;
  if (n.is_null()) {
    t.kind = Kind::Null;
    return t;
  }
  const std::string& tag = raw.Tag();
  const std::string& s = raw.Scalar();
  if (!valid_utf8(s)) n.fail(n.path() + ": invalid UTF-8 in scalar");
  // "!" marks a quoted or block scalar, which is a string whatever it looks like.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return t;
  if (tag != "?" && !tag.empty()) n.fail(n.path() + ": unsupported YAML tag '" + tag + "'");
  if (s == "true" || s == "True" || s == "TRUE") return Typed{Kind::Bool, true};
  if (s == "false" || s == "False" || s == "FALSE") return Typed{Kind::Bool, false};
  const size_t digits_from = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (all_digits(s, digits_from)) {
    std::int64_t v = 0;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) n.fail(n.path() + ": integer out of range: " + s);
    t.kind = Kind::Int;
    t.i = v;
    return t;
  }
  if (looks_float(s)) {
    double v = 0;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
      n.fail(n.path() + ": number out of range: " + s);
    t.kind = Kind::Float;
    t.d = v;
    return t;
  }
  const std::string lower = [&] {
    std::string l = s;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  }();
  if (lower == ".inf" || lower == "+.inf" || lower == "-.inf" || lower == ".nan")
    n.fail(n.path() + ": non-finite numbers are not allowed (" + s + ")");
  return t;
}
}  // namespace

std::string Node::describe() const {
  if (!node_.IsDefined() || node_.IsNull()) return "null";
  if (node_.IsMap()) return "a map";
  if (node_.IsSequence()) return "a list";
  if (!node_.IsScalar()) return "an unknown node";
  const Typed t = classify(*this);
  switch (t.kind) {
    case Kind::Null: return "null";
    case Kind::Bool: return t.b ? "true" : "false";
    case Kind::Int: return "the integer " + node_.Scalar();
    case Kind::Float: return "the number " + node_.Scalar();
    case Kind::String: return "the string " + quote(node_.Scalar());
  }
  return "a scalar";
}

std::vector<std::pair<std::string, Node>> Node::entries() const {
  if (!node_.IsMap()) expected("a map");
  std::vector<std::pair<std::string, Node>> out;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    Node key = child(it->first, path_);
    if (!it->first.IsScalar() || key.is_null()) key.fail((path_.empty() ? "top level" : path_) +
                                                         ": map keys must be plain strings, got " + key.describe());
    const std::string k = it->first.Scalar();
    if (!valid_utf8(k)) key.fail("invalid UTF-8 in key");
    for (const auto& [seen, seen_node] : out) {
      if (seen == k) {
        key.fail("duplicate key '" + k + "' in " + (path_.empty() ? "top level" : path_) +
                 " (first at line " + std::to_string(seen_node.fallback_.line) + ")");
      }
    }
    const std::string child_path = path_.empty() ? k : path_ + "." + k;
    // A value's fallback position is its key's, which yaml-cpp always knows.
    out.emplace_back(k, Node(it->second, file_, child_path, key.where()));
  }
  return out;
}

std::vector<Node> Node::items() const {
  if (!node_.IsSequence()) expected("a list");
  std::vector<Node> out;
  size_t i = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it, ++i)
    out.push_back(child(*it, path_ + "[" + std::to_string(i) + "]"));
  return out;
}

std::string Node::as_string() const {
  if (!node_.IsScalar() || is_null()) expected("a string");
  const std::string& s = node_.Scalar();
  if (!valid_utf8(s)) fail(path_ + ": invalid UTF-8 in string");
  return s;
}

double Node::as_number() const {
  if (node_.IsScalar() && !is_null()) {
    const Typed t = classify(*this);
    if (t.kind == Kind::Int) return static_cast<double>(t.i);
    if (t.kind == Kind::Float) return t.d;
  }
  expected("a number");
}

std::int64_t Node::as_int() const {
  if (node_.IsScalar() && !is_null()) {
    const Typed t = classify(*this);
    if (t.kind == Kind::Int) return t.i;
  }
  expected("an integer");
}

bool Node::as_bool() const {
  if (node_.IsScalar() && !is_null()) {
    const Typed t = classify(*this);
    if (t.kind == Kind::Bool) return t.b;
  }
  expected("true or false");
}

std::vector<std::string> Node::as_string_list() const {
  if (!node_.IsSequence()) expected("a list of strings");
  std::vector<std::string> out;
  for (const Node& item : items()) out.push_back(item.as_string());
  return out;
}

std::vector<Json> Node::as_scalar_list() const {
  if (!node_.IsSequence()) expected("a list of values");
  std::vector<Json> out;
  for (const Node& item : items()) {
    if (!item.is_scalar() || item.is_null()) item.expected("a number, string or boolean");
    out.push_back(item.scalar_json());
  }
  return out;
}

Json Node::scalar_json() const {
  const Typed t = classify(*this);
  switch (t.kind) {
    case Kind::Null: return nullptr;
    case Kind::Bool: return t.b;
    case Kind::Int: return t.i;
    case Kind::Float: return t.d;
    case Kind::String: return node_.Scalar();
  }
  return nullptr;
}

Json Node::to_json() const {
  std::size_t budget = kMaxValueNodes;
  return to_json_at(0, budget);
}

Json Node::to_json_at(int depth, std::size_t& budget) const {
  if (depth > kMaxDepth) {
    const std::string shown = path_.size() > 60 ? path_.substr(0, 60) + "..." : path_;
    fail(shown + ": nested more than " + std::to_string(kMaxDepth) + " levels deep (an alias cycle?)");
  }
  if (budget-- == 0)
    fail(path_ + ": value has more than " + std::to_string(kMaxValueNodes) + " elements (aliases expanding?)");
  if (is_null()) return nullptr;
  if (node_.IsScalar()) return scalar_json();
  if (node_.IsSequence()) {
    Json arr = Json::array();
    for (const Node& item : items()) arr.push_back(item.to_json_at(depth + 1, budget));
    return arr;
  }
  if (node_.IsMap()) {
    Json obj = Json::object();
    for (const auto& [k, v] : entries()) obj[k] = v.to_json_at(depth + 1, budget);
    return obj;
  }
  expected("a value");
}

MapReader::MapReader(const Node& node, std::string what, std::vector<std::string> allowed)
    : node_(node), what_(std::move(what)) {
  if (!node.is_map()) node.expected("a map (" + what_ + ")");
  entries_ = node.entries();
  std::sort(allowed.begin(), allowed.end());
  for (const auto& [key, value] : entries_) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw Error("unknown key '" + key + "' in " + what_ + "; allowed keys: " + join(allowed),
                  value.key_where());
    }
  }
}

std::optional<Node> MapReader::get(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  return std::nullopt;
}

Node MapReader::require(const std::string& key) const {
  if (auto v = get(key)) return *v;
  node_.fail("missing required key '" + key + "' in " + what_ +
             (node_.path().empty() ? std::string() : " (" + node_.path() + ")"));
}

namespace {

// Records where each document starts; everything else is ignored.
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

Where at(const std::string& path, const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return Where{path};
  return Where{path, m.line + 1, m.column + 1};
}

}  // namespace

Node load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file", Where{path});
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw Error("cannot read file", Where{path});
  const std::string text = buf.str();
  auto file = std::make_shared<const std::string>(path);

  // Not YAML::LoadAll: in yaml-cpp 0.7 a stray ',' outside a flow collection makes it loop
  // forever, adding empty documents until memory runs out (jbeder/yaml-cpp#1040, fixed by
  // #1319). Walking documents with a bound finds the same thing in a few steps: a "document"
  // that starts where the previous one did consumed nothing.
  YAML::Node root;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    for (int n = 0; n < 3 && parser.HandleNextDocument(starts); ++n) {
    }
    const auto& m = starts.marks;
    for (size_t i = 1; i < m.size(); ++i)
      if (m[i].pos == m[i - 1].pos) throw Error("YAML error: unexpected token here", at(path, m[i]));
    if (m.size() > 1) throw Error("expected one YAML document; a second one starts here", at(path, m[1]));
    if (!m.empty()) root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    rethrow_yaml(path, e);
  }
  return Node(root, file, "", Where{path, 1, 1});
}

}  // namespace jenga::harness::yaml
