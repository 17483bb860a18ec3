// Strict reading of spec files: a YAML node that knows its file, its position and its dotted
// path, so every complaint can say where it is and what was expected. All failures are Error.
#pragma once

#include "harness/common/error.hpp"
#include "harness/spec/param.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jenga::harness::yaml {

class Node {
 public:
  Node(YAML::Node node, std::shared_ptr<const std::string> file, std::string path, Where fallback);

  const YAML::Node& raw() const { return node_; }
  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }  // e.g. "matrix.sweep.seq_len", "figures[1]"
  Where where() const;  // 1-based; the parent's position when yaml-cpp has none for this node
  const Where& key_where() const { return fallback_; }  // a map value: where its key is

  bool is_map() const { return node_.IsMap(); }
  bool is_list() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_null() const;  // absent, empty, `~` or `null`

  // "a map", "a list", "null", "the string \"x\"", "the number 3", "true", ...
  std::string describe() const;
  [[noreturn]] void fail(const std::string& message) const;          // Error at this node
  [[noreturn]] void expected(const std::string& expectation) const;  // "<path>: expected X, got Y"

  // Map entries in file order; keys must be unique scalars.
  std::vector<std::pair<std::string, Node>> entries() const;
  std::vector<Node> items() const;  // list elements

  std::string as_string() const;   // any non-null scalar, verbatim
  double as_number() const;
  std::int64_t as_int() const;
  bool as_bool() const;
  std::vector<std::string> as_string_list() const;
  std::vector<Json> as_scalar_list() const;
  Json to_json() const;            // scalars typed as YAML 1.2 core; lists/maps recursively
  Json scalar_json() const;        // this scalar typed (quoted scalars stay strings)

 private:
  Node child(YAML::Node n, std::string path) const;
  Json to_json_at(int depth, std::size_t& budget) const;

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
  Where fallback_;
};

// A map whose keys are checked against an allowed list on construction.
class MapReader {
 public:
  // `what` names the map in messages (e.g. "profile", "figure"); it must be a map.
  MapReader(const Node& node, std::string what, std::vector<std::string> allowed);

  std::optional<Node> get(const std::string& key) const;   // absent -> nullopt
  Node require(const std::string& key) const;              // absent -> Error at the map
  const Node& node() const { return node_; }
  const std::vector<std::pair<std::string, Node>>& entries() const { return entries_; }

 private:
  Node node_;
  std::string what_;
  std::vector<std::pair<std::string, Node>> entries_;
};

// Parses one file (exactly one YAML document). Syntax errors become Error with file:line:col.
Node load_file(const std::string& path);

// Runs `body` (which reads spec nodes) and turns any stray yaml-cpp exception into Error
// located in `file`, so callers of the spec loaders only ever see Error.
template <typename F>
auto guarded(const std::string& file, F&& body) -> decltype(body());

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");

[[noreturn]] void rethrow_yaml(const std::string& file, const YAML::Exception& e);

template <typename F>
auto guarded(const std::string& file, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const YAML::Exception& e) {
    rethrow_yaml(file, e);
  }
}

}  // namespace jenga::harness::yaml
