#include "jenga/core/text/corpus.hpp"

#include "jenga/core/error.hpp"
#include "io/json_lines.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace jenga::core {
namespace {

using Json = nlohmann::json;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

const std::string& string_at(const Json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) throw Error(msg(where, ": missing field '", key, "'"));
  if (!it->is_string()) throw Error(msg(where, ": field '", key, "' must be a string, got ", it->type_name()));
  return it->get_ref<const std::string&>();
}

std::string document_of(const Json& j, CorpusFormat format, const std::string& field, const std::string& where) {
  switch (format) {
    case CorpusFormat::Jsonl:
      return string_at(j, field.c_str(), where);
    case CorpusFormat::LongAlign: {
      const auto it = j.find("messages");
      if (it == j.end() || !it->is_array()) throw Error(msg(where, ": expected 'messages', a list of {role, content}"));
      std::string doc;
      for (const auto& m : *it) {
        if (!m.is_object()) throw Error(msg(where, ": each message must be an object with role and content"));
        doc += (doc.empty() ? "" : "\n\n") + string_at(m, "role", where) + ": " + string_at(m, "content", where);
      }
      return doc;
    }
    case CorpusFormat::LongBench: {
      std::string doc = string_at(j, "context", where) + "\n\n" + string_at(j, "input", where);
      const auto a = j.find("answers");
      if (a != j.end() && a->is_array() && !a->empty() && a->front().is_string()) doc += "\n" + a->front().get<std::string>();
      return doc;
    }
    case CorpusFormat::Text:
      break;
  }
  throw Error(msg(where, ": not a line-based format"));
}

}  // namespace

CorpusFormat parse_corpus_format(const std::string& name, const std::string& path) {
  if (name == "text") return CorpusFormat::Text;
  if (name == "jsonl") return CorpusFormat::Jsonl;
  if (name == "longalign") return CorpusFormat::LongAlign;
  if (name == "longbench") return CorpusFormat::LongBench;
  if (name == "auto") return ends_with(path, ".jsonl") || ends_with(path, ".json") ? CorpusFormat::Jsonl : CorpusFormat::Text;
  throw Error(msg("corpus format '", name, "': expected auto, text, jsonl, longalign or longbench"));
}

int64_t for_each_document(const std::string& path, CorpusFormat format, const std::string& field,
                          const std::function<void(const std::string&)>& fn) {
  if (format == CorpusFormat::Text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(msg(path, ": cannot open"));
    std::ostringstream all;
    all << in.rdbuf();
    if (all.str().empty()) return 0;
    fn(all.str());
    return 1;
  }
  return json_lines::for_each_object(path, [&](const Json& j, int64_t, const std::string& where) {
    fn(document_of(j, format, field, where));
  });
}

}  // namespace jenga::core
