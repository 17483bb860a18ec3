#include "harness/common/error.hpp"

namespace jenga::harness {

std::string Where::str() const {
  std::string s = file;
  if (line > 0) {
    s += (s.empty() ? "line " : ":") + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  return s;
}

static std::string compose(const std::string& message, const Where& where) {
  const std::string w = where.str();
  return w.empty() ? message : w + ": " + message;
}

Error::Error(const std::string& message, Where where)
    : std::runtime_error(compose(message, where)), where_(std::move(where)), message_(message) {}

}  // namespace jenga::harness
