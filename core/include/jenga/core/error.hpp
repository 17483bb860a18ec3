// The core library's one error type: a message with context (file, tensor shape, layer...).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace jenga::core {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from streamable parts: throw Error(msg("bad shape ", t.sizes(), " in ", path)).
template <typename... Parts>
std::string msg(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}

}  // namespace jenga::core
