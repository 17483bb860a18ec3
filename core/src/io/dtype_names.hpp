// The safetensors dtype strings and the torch scalar types they name, both ways. Internal to core/.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace jenga::core::io {

// "F32" -> kFloat ...; nullopt for anything outside F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
std::optional<c10::ScalarType> dtype_from_safetensors(const std::string& name);

// kFloat -> "F32" ...; nullopt for types safetensors (as we support it) cannot hold.
std::optional<std::string> dtype_to_safetensors(c10::ScalarType t);

// Bytes per element of the supported types (BOOL is one byte, as in the format).
size_t dtype_size(c10::ScalarType t);

}  // namespace jenga::core::io
