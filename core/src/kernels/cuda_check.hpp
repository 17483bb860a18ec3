// CUDA return codes become jenga::core::Error naming the operation; never ignored.
#pragma once

#include "jenga/core/error.hpp"

#include <cuda_runtime.h>

namespace jenga::core::kernels {

inline void check_cuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess) throw Error(msg(what, ": CUDA error ", static_cast<int>(code), " (", cudaGetErrorString(code), ")"));
}

}  // namespace jenga::core::kernels
