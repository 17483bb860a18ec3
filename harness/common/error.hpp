// The harness's one error type: a message plus where it came from (file, line, column).
#pragma once

#include <stdexcept>
#include <string>

namespace jenga::harness {

// A place in an input file; line and column are 1-based, 0 when unknown.
struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:col" (omits what is unknown)
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, Where where = {});
  const Where& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  Where where_;
  std::string message_;
};

}  // namespace jenga::harness
