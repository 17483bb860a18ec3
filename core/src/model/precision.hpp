// The precision reductions and nonlinearities run in: fp32 for bf16/fp16/fp32 tensors (as HF
// does), fp64 for fp64 tensors so that gradient checks in double stay exact.
#pragma once

#include <c10/core/ScalarType.h>

namespace jenga::core {

inline c10::ScalarType wide_type(c10::ScalarType t) { return t == c10::kDouble ? c10::kDouble : c10::kFloat; }

}  // namespace jenga::core
