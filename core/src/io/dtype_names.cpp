#include "io/dtype_names.hpp"

#include <array>
#include <utility>

namespace jenga::core::io {
namespace {

struct Entry {
  const char* name;
  c10::ScalarType type;
};

// The table the format defines for the types we meet in LLM checkpoints.
constexpr std::array<Entry, 10> kTypes{{{"F64", c10::ScalarType::Double},
                                        {"F32", c10::ScalarType::Float},
                                        {"F16", c10::ScalarType::Half},
                                        {"BF16", c10::ScalarType::BFloat16},
                                        {"I64", c10::ScalarType::Long},
                                        {"I32", c10::ScalarType::Int},
                                        {"I16", c10::ScalarType::Short},
                                        {"I8", c10::ScalarType::Char},
                                        {"U8", c10::ScalarType::Byte},
                                        {"BOOL", c10::ScalarType::Bool}}};

}  // namespace

std::optional<c10::ScalarType> dtype_from_safetensors(const std::string& name) {
  for (const auto& e : kTypes)
    if (name == e.name) return e.type;
  return std::nullopt;
}

std::optional<std::string> dtype_to_safetensors(c10::ScalarType t) {
  for (const auto& e : kTypes)
    if (t == e.type) return std::string(e.name);
  return std::nullopt;
}

size_t dtype_size(c10::ScalarType t) { return c10::elementSize(t); }

}  // namespace jenga::core::io
