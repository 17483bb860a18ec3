// What the C++ side needs to call a torch-free kernel on ATen tensors: the element type and the
// current stream. Only compiled where the kernels are (JENGA_CUDA_KERNELS).
#pragma once

#include "jenga/core/error.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/element_type.hpp"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>

namespace jenga::core::kernels {

inline ElementType element_type(const at::Tensor& t, const char* who) {
  switch (t.scalar_type()) {
    case at::kFloat: return ElementType::F32;
    case at::kHalf: return ElementType::F16;
    case at::kBFloat16: return ElementType::BF16;
    default: throw Error(msg(who, ": no CUDA kernel for dtype ", t.scalar_type()));
  }
}

inline cudaStream_t current_stream() { return at::cuda::getCurrentCUDAStream(); }

}  // namespace jenga::core::kernels
