// JSON-lines files (LongBench, PG-19, LongAlign, ...): one object per non-blank line, every
// malformed line reported as "<path>:<line>: ...".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace jenga::core::json_lines {

// Calls fn(object, line, "<path>:<line>") for each object in file order; returns how many. Error
// naming the path if it cannot be opened, or file:line for a line that is not a JSON object.
int64_t for_each_object(const std::string& path,
                        const std::function<void(const nlohmann::json&, int64_t line, const std::string& where)>& fn);

}  // namespace jenga::core::json_lines
