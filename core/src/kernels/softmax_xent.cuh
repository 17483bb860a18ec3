// Fused softmax cross-entropy over rows of logits, in place: each row of `logits` [rows, V]
// becomes its own gradient (softmax - onehot(label)) and nll[row] gets logsumexp - logit[label];
// rows labelled `ignore_index` become zero with nll 0. Torch-free so nvcc compiles it alone.
#pragma once

#include "kernels/element_type.hpp"

#include <cuda_runtime.h>

#include <cstdint>

namespace jenga::core::kernels {

// labels: int64 [rows] on the device; nll: fp32 [rows]. When write_grad is false the logits are
// left untouched (evaluation). Returns the launch's error code.
cudaError_t softmax_xent_rows(void* logits, ElementType type, const int64_t* labels, float* nll, int64_t rows,
                              int64_t vocab, int64_t row_stride, int64_t ignore_index, bool write_grad,
                              cudaStream_t stream);

}  // namespace jenga::core::kernels
