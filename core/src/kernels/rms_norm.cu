// Two reads and one write per element forward, three reads and one write backward, where the
// composite ops make seven to ten passes in fp32.
#include "kernels/rms_norm.cuh"

#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace jenga::core::kernels {
namespace {

constexpr int kThreads = 256;

// Rounds through T, as a tensor of dtype T would hold the value.
template <typename T> __device__ inline float round_to(float x) { return to_float(from_float<T>(x)); }

__device__ inline float block_sum(float v) {
  __shared__ float part[kThreads / 32];
  __shared__ float total;
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int i = 0; i < kThreads / 32; ++i) s += part[i];
    total = s;
  }
  __syncthreads();
  const float out = total;
  __syncthreads();  // `total` and `part` are reused by the next call
  return out;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) fwd(const T* x, const T* w, int64_t H, float eps, T* y, float* rstd) {
  const T* xr = x + static_cast<int64_t>(blockIdx.x) * H;
  T* yr = y + static_cast<int64_t>(blockIdx.x) * H;
  float ss = 0.f;
  for (int64_t j = threadIdx.x; j < H; j += kThreads) {
    const float v = to_float(xr[j]);
    ss += v * v;
  }
  const float r = rsqrtf(block_sum(ss) / static_cast<float>(H) + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int64_t j = threadIdx.x; j < H; j += kThreads) yr[j] = from_float<T>(to_float(w[j]) * round_to<T>(to_float(xr[j]) * r));
}

template <typename T>
__global__ void __launch_bounds__(kThreads) bwd(const T* dy, const T* x, const T* w, const float* rstd, int64_t H, T* dx) {
  const int64_t off = static_cast<int64_t>(blockIdx.x) * H;
  const float r = rstd[blockIdx.x];
  float dot = 0.f;
  for (int64_t j = threadIdx.x; j < H; j += kThreads) dot += round_to<T>(to_float(dy[off + j]) * to_float(w[j])) * (to_float(x[off + j]) * r);
  const float mean = block_sum(dot) / static_cast<float>(H);
  for (int64_t j = threadIdx.x; j < H; j += kThreads) {
    const float n = to_float(x[off + j]) * r;
    const float gn = round_to<T>(to_float(dy[off + j]) * to_float(w[j]));
    dx[off + j] = from_float<T>(r * (gn - n * mean));
  }
}

template <typename T>
cudaError_t launch_fwd(const void* x, const void* w, int64_t rows, int64_t H, double eps, void* y, float* rstd, cudaStream_t s) {
  if (rows == 0) return cudaSuccess;
  fwd<T><<<static_cast<unsigned>(rows), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<const T*>(w), H,
                                                          static_cast<float>(eps), static_cast<T*>(y), rstd);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_bwd(const void* dy, const void* x, const void* w, const float* rstd, int64_t rows, int64_t H, void* dx,
                       cudaStream_t s) {
  if (rows == 0) return cudaSuccess;
  bwd<T><<<static_cast<unsigned>(rows), kThreads, 0, s>>>(static_cast<const T*>(dy), static_cast<const T*>(x),
                                                          static_cast<const T*>(w), rstd, H, static_cast<T*>(dx));
  return cudaGetLastError();
}

}  // namespace

cudaError_t rms_norm_forward(const void* x, const void* w, ElementType type, int64_t rows, int64_t H, double eps, void* y,
                             float* rstd, cudaStream_t stream) {
  if (rows < 0 || rows > 0x7fffffffLL || H <= 0) return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::F32: return launch_fwd<float>(x, w, rows, H, eps, y, rstd, stream);
    case ElementType::F16: return launch_fwd<__half>(x, w, rows, H, eps, y, rstd, stream);
    case ElementType::BF16: return launch_fwd<__nv_bfloat16>(x, w, rows, H, eps, y, rstd, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t rms_norm_backward(const void* dy, const void* x, const void* w, const float* rstd, ElementType type, int64_t rows,
                              int64_t H, void* dx, cudaStream_t stream) {
  if (rows < 0 || rows > 0x7fffffffLL || H <= 0) return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::F32: return launch_bwd<float>(dy, x, w, rstd, rows, H, dx, stream);
    case ElementType::F16: return launch_bwd<__half>(dy, x, w, rstd, rows, H, dx, stream);
    case ElementType::BF16: return launch_bwd<__nv_bfloat16>(dy, x, w, rstd, rows, H, dx, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
