#include "io/json_lines.hpp"

#include "jenga/core/error.hpp"

#include <fstream>

namespace jenga::core::json_lines {

int64_t for_each_object(const std::string& path,
                        const std::function<void(const nlohmann::json&, int64_t, const std::string&)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(msg(path, ": cannot open"));
  int64_t objects = 0;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = msg(path, ":", n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(msg(where, ": not a JSON object (", e.what(), ")"));
    }
    if (!j.is_object()) throw Error(msg(where, ": expected a JSON object, got ", j.type_name()));
    fn(j, n, where);
    ++objects;
  }
  return objects;
}

}  // namespace jenga::core::json_lines
