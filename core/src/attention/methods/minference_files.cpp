// MInference's pattern files: reading and writing the offline search's per-head choices
// (minference.hpp), with errors that say where.
#include "jenga/core/attention/minference.hpp"

#include "jenga/core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace jenga::core::minference {

using Json = nlohmann::json;

namespace {

Json params_json(const HeadPattern& p) {
  switch (p.pattern) {
    case Pattern::AShape: return {{"sink_tokens", p.a_shape.sink_tokens}, {"local_tokens", p.a_shape.local_tokens}};
    case Pattern::VerticalSlash: {
      const auto& v = p.vertical_slash;
      return {{"vertical", v.vertical},
              {"slash", v.slash},
              {"last_q", v.last_q},
              {"keep_first_columns", v.keep_first_columns},
              {"keep_nearest_slashes", v.keep_nearest_slashes},
              {"cluster_threshold", v.cluster_threshold}};
    }
    case Pattern::BlockSparse: return {{"top_k_blocks", p.block_sparse.top_k_blocks}};
  }
  return Json::object();
}

// line:column of a byte offset into the text (1-based), for syntax errors.
std::string line_col(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < std::min(byte, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return msg(line, ":", col);
}

int64_t parse_index(const std::string& key, const std::string& where, const char* what) {
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(key, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != key.size() || key.empty() || v < 0) throw Error(msg(where, ": ", what, " key \"", key, "\" is not a non-negative integer"));
  return v;
}

// Reads params[name] into *out when present (required: an error when absent); a non-negative integer.
void read_param(const Json& params, const char* name, int64_t* out, bool required, const std::string& where) {
  const auto it = params.find(name);
  if (it == params.end()) {
    if (required) throw Error(msg(where, ": missing \"", name, "\""));
    return;
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    throw Error(msg(where, "/", name, ": expected a non-negative integer, got ", it->dump()));
  *out = it->get<int64_t>();
}

void check_keys(const Json& obj, const std::vector<std::string>& allowed, const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw Error(msg(where, ": unknown key \"", it.key(), "\" (expected one of: ", list, ")"));
    }
}

HeadChoice parse_head(const Json& j, const std::string& where) {
  if (!j.is_object()) throw Error(msg(where, ": expected an object {\"pattern\": ..., \"params\": {...}}, got ", j.dump()));
  check_keys(j, {"pattern", "params", "recall", "density"}, where);
  const auto pit = j.find("pattern");
  if (pit == j.end() || !pit->is_string()) throw Error(msg(where, ": missing \"pattern\" (a string)"));
  const auto name = pit->get<std::string>();
  HeadChoice c;
  const auto params = j.value("params", Json::object());
  const std::string pw = where + "/params";
  if (!params.is_object()) throw Error(msg(pw, ": expected an object, got ", params.dump()));
  if (name == "a_shape") {
    c.pattern.pattern = Pattern::AShape;
    check_keys(params, {"sink_tokens", "local_tokens"}, pw);
    read_param(params, "sink_tokens", &c.pattern.a_shape.sink_tokens, true, pw);
    read_param(params, "local_tokens", &c.pattern.a_shape.local_tokens, true, pw);
  } else if (name == "vertical_slash") {
    c.pattern.pattern = Pattern::VerticalSlash;
    auto& v = c.pattern.vertical_slash;
    check_keys(params, {"vertical", "slash", "last_q", "keep_first_columns", "keep_nearest_slashes", "cluster_threshold"}, pw);
    read_param(params, "vertical", &v.vertical, true, pw);
    read_param(params, "slash", &v.slash, true, pw);
    read_param(params, "last_q", &v.last_q, false, pw);
    read_param(params, "keep_first_columns", &v.keep_first_columns, false, pw);
    read_param(params, "keep_nearest_slashes", &v.keep_nearest_slashes, false, pw);
    read_param(params, "cluster_threshold", &v.cluster_threshold, false, pw);
    if (v.last_q == 0) throw Error(msg(pw, "/last_q: must be positive"));
  } else if (name == "block_sparse") {
    c.pattern.pattern = Pattern::BlockSparse;
    check_keys(params, {"top_k_blocks"}, pw);
    read_param(params, "top_k_blocks", &c.pattern.block_sparse.top_k_blocks, true, pw);
  } else {
    throw Error(msg(where, "/pattern: unknown pattern \"", name, "\" (expected a_shape, vertical_slash or block_sparse)"));
  }
  for (const char* info : {"recall", "density"}) {
    const auto it = j.find(info);
    if (it == j.end()) continue;
    if (!it->is_number()) throw Error(msg(where, "/", info, ": expected a number, got ", it->dump()));
    (std::string(info) == "recall" ? c.recall : c.density) = it->get<double>();
  }
  return c;
}

}  // namespace

void write_pattern_file(const std::string& path, const PatternFile& file) {
  Json root = Json::object();
  for (const auto& [layer, heads] : file) {
    Json layer_json = Json::object();
    for (size_t h = 0; h < heads.size(); ++h)
      layer_json[std::to_string(h)] = {{"pattern", pattern_name(heads[h].pattern.pattern)},
                                       {"params", params_json(heads[h].pattern)},
                                       {"recall", heads[h].recall},
                                       {"density", heads[h].density}};
    root[std::to_string(layer)] = layer_json;
  }
  std::ofstream out(path);
  if (!out) throw Error(msg(path, ": cannot open for writing"));
  out << root.dump(2) << "\n";
  if (!out) throw Error(msg(path, ": write failed"));
}

PatternFile read_pattern_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(msg(path, ": cannot open the pattern file"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw Error(msg(path, ":", line_col(text, e.byte == 0 ? 0 : e.byte - 1), ": not valid JSON (", e.what(), ")"));
  }
  if (!root.is_object()) throw Error(msg(path, ": expected an object {\"<layer>\": {\"<head>\": {...}}}"));
  PatternFile file;
  for (auto lit = root.begin(); lit != root.end(); ++lit) {
    const std::string lw = msg(path, ": /", lit.key());
    const int64_t layer = parse_index(lit.key(), msg(path, ": /"), "layer");
    if (!lit->is_object() || lit->empty()) throw Error(msg(lw, ": expected a non-empty object {\"<head>\": {...}}"));
    std::map<int64_t, HeadChoice> heads;
    for (auto hit = lit->begin(); hit != lit->end(); ++hit) {
      const int64_t head = parse_index(hit.key(), lw, "head");
      heads[head] = parse_head(*hit, msg(lw, "/", hit.key()));
    }
    std::vector<HeadChoice> list;
    for (const auto& [h, c] : heads) {
      if (h != static_cast<int64_t>(list.size()))
        throw Error(msg(lw, ": head ", list.size(), " is missing (heads must be 0..", heads.rbegin()->first, ", all present)"));
      list.push_back(c);
    }
    file[layer] = list;
  }
  return file;
}

}  // namespace jenga::core::minference
