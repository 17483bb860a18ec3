// Fused RMSNorm over rows of length H, with HF LlamaRMSNorm's rounding: y = w * to_T(x * rstd),
// rstd = rsqrt(mean(x²) + eps) in fp32 (saved for backward). Backward, for frozen w:
// dx = rstd * (gn - n * mean(gn * n)), n = x * rstd, gn = to_float(to_T(dy * w)).
// Torch-free so nvcc compiles it alone; one thread block per row.
#pragma once

#include "kernels/element_type.hpp"

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

cudaError_t rms_norm_forward(const void* x, const void* w, ElementType type, int64_t rows, int64_t H, double eps, void* y,
                             float* rstd, cudaStream_t stream);
cudaError_t rms_norm_backward(const void* dy, const void* x, const void* w, const float* rstd, ElementType type, int64_t rows,
                              int64_t H, void* dx, cudaStream_t stream);

}  // namespace jenga::core::kernels
