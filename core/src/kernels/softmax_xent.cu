// One thread block per row, two passes over the row: an online max / sum-of-exp (fp32), then the
// gradient written over the logits. Six bytes of traffic per bf16 logit in all, where an
// unfused fp32 cross-entropy and its backward move about forty.
#include "kernels/softmax_xent.cuh"

#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cfloat>

namespace jenga::core::kernels {
namespace {

constexpr int kThreads = 512;

// Running (max, sum of exp(x - max)): one exp per element; a NaN logit makes the sum NaN, so
// the loss shows it.
__device__ inline void push(float& m, float& s, float x) {
  if (x > m) {
    s = s * expf(m - x) + 1.f;
    m = x;
  } else {
    s += expf(x - m);
  }
}

// Merge two (max, sum) pairs.
__device__ inline void merge(float& m, float& s, float m2, float s2) {
  if (m2 == -FLT_MAX) return;
  if (m == -FLT_MAX) { m = m2; s = s2; return; }
  const float mm = fmaxf(m, m2);
  s = s * expf(m - mm) + s2 * expf(m2 - mm);
  m = mm;
}

__device__ inline void block_reduce(float& m, float& s) {
  __shared__ float sm[kThreads / 32], ss[kThreads / 32];
  for (int off = 16; off > 0; off >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
    merge(m, s, m2, s2);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) { sm[warp] = m; ss[warp] = s; }
  __syncthreads();
  m = lane < kThreads / 32 ? sm[lane] : -FLT_MAX;
  s = lane < kThreads / 32 ? ss[lane] : 0.f;
  for (int off = 16; off > 0; off >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
    merge(m, s, m2, s2);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) xent_kernel(T* logits, const int64_t* labels, float* nll, int64_t vocab,
                                                        int64_t row_stride, int64_t ignore_index, bool write_grad) {
  T* row = logits + static_cast<int64_t>(blockIdx.x) * row_stride;
  const int64_t label = labels[blockIdx.x];
  if (label == ignore_index || label < 0 || label >= vocab) {
    // Out-of-range labels are rejected on the host; this keeps a bad one from reading wild memory.
    if (write_grad)
      for (int64_t j = threadIdx.x; j < vocab; j += kThreads) row[j] = from_float<T>(0.f);
    if (threadIdx.x == 0) nll[blockIdx.x] = 0.f;
    return;
  }
  float m = -FLT_MAX, s = 0.f;
  for (int64_t j = threadIdx.x; j < vocab; j += kThreads) push(m, s, to_float(row[j]));
  block_reduce(m, s);
  __shared__ float row_max, row_sum;
  if (threadIdx.x == 0) { row_max = m; row_sum = s; }
  __syncthreads();
  const float mx = row_max, inv = 1.f / row_sum;
  const float logit_label = to_float(row[label]);
  __syncthreads();  // everyone has read row[label] before it is overwritten
  if (threadIdx.x == 0) nll[blockIdx.x] = mx + logf(row_sum) - logit_label;
  if (!write_grad) return;
  for (int64_t j = threadIdx.x; j < vocab; j += kThreads) {
    const float p = expf(to_float(row[j]) - mx) * inv;
    row[j] = from_float<T>(j == label ? p - 1.f : p);
  }
}

template <typename T>
cudaError_t launch(void* logits, const int64_t* labels, float* nll, int64_t rows, int64_t vocab, int64_t stride,
                   int64_t ignore_index, bool write_grad, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (rows > 0x7fffffffLL) return cudaErrorInvalidValue;
  xent_kernel<T><<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(static_cast<T*>(logits), labels, nll, vocab, stride,
                                                                        ignore_index, write_grad);
  return cudaGetLastError();
}

}  // namespace

cudaError_t softmax_xent_rows(void* logits, ElementType type, const int64_t* labels, float* nll, int64_t rows,
                              int64_t vocab, int64_t row_stride, int64_t ignore_index, bool write_grad,
                              cudaStream_t stream) {
  switch (type) {
    case ElementType::F32: return launch<float>(logits, labels, nll, rows, vocab, row_stride, ignore_index, write_grad, stream);
    case ElementType::F16: return launch<__half>(logits, labels, nll, rows, vocab, row_stride, ignore_index, write_grad, stream);
    case ElementType::BF16: return launch<__nv_bfloat16>(logits, labels, nll, rows, vocab, row_stride, ignore_index, write_grad, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
