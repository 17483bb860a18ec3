#include "task.hpp"

#include <cstdio>

namespace jenga::worker {

void emit(const Json& record) {
  // One write per record, then flush: the harness reads the pipe line by line while we run.
  const std::string line = record.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace jenga::worker
