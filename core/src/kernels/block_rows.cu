// One thread block per output row; rows move as 16-byte vectors when the row length allows
// (H = 4096 in bf16: 512 vectors), element by element otherwise.
#include "kernels/block_rows.cuh"

#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace jenga::core::kernels {
namespace {

constexpr int kThreads = 256;


// Copies one row of `bytes` bytes (a multiple of 16 when vec is true).
__device__ inline void copy_row(const char* src, char* dst, int64_t bytes, bool vec) {
  if (vec) {
    const auto* s = reinterpret_cast<const int4*>(src);
    auto* d = reinterpret_cast<int4*>(dst);
    for (int64_t j = threadIdx.x; j < bytes / 16; j += kThreads) d[j] = s[j];
  } else {
    for (int64_t j = threadIdx.x; j < bytes; j += kThreads) dst[j] = src[j];
  }
}

__global__ void __launch_bounds__(kThreads) gather(const char* x, const int64_t* blocks, int64_t row_bytes, int64_t block, bool vec, char* out) {
  const int64_t r = blockIdx.x;
  const int64_t src = blocks[r / block] * block + r % block;
  copy_row(x + src * row_bytes, out + r * row_bytes, row_bytes, vec);
}

__global__ void __launch_bounds__(kThreads) expand(const char* g, const int32_t* slot, int64_t row_bytes, int64_t block, bool vec, char* dx) {
  const int64_t r = blockIdx.x;
  const int32_t s = slot[r / block];
  char* d = dx + r * row_bytes;
  if (s >= 0) {
    copy_row(g + (static_cast<int64_t>(s) * block + r % block) * row_bytes, d, row_bytes, vec);
  } else if (vec) {
    for (int64_t j = threadIdx.x; j < row_bytes / 16; j += kThreads) reinterpret_cast<int4*>(d)[j] = make_int4(0, 0, 0, 0);
  } else {
    for (int64_t j = threadIdx.x; j < row_bytes; j += kThreads) d[j] = 0;
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) residual_add(const T* x, const T* upd, const int32_t* slot, int64_t H, int64_t block, T* h) {
  const int64_t r = blockIdx.x;
  const int32_t s = slot[r / block];
  const T* xr = x + r * H;
  T* hr = h + r * H;
  if (s < 0) {
    for (int64_t j = threadIdx.x; j < H; j += kThreads) hr[j] = xr[j];
    return;
  }
  const T* ur = upd + (static_cast<int64_t>(s) * block + r % block) * H;
  for (int64_t j = threadIdx.x; j < H; j += kThreads) hr[j] = from_float<T>(to_float(xr[j]) + to_float(ur[j]));
}

int64_t element_bytes(ElementType t) { return t == ElementType::F32 ? 4 : 2; }

bool vectorizable(const void* a, const void* b, int64_t row_bytes) {
  return row_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(a) % 16 == 0 && reinterpret_cast<uintptr_t>(b) % 16 == 0;
}

}  // namespace

cudaError_t block_gather_rows(const void* x, const int64_t* blocks, ElementType type, int64_t rows_out, int64_t H, int64_t block,
                              void* out, cudaStream_t stream) {
  if (rows_out == 0) return cudaSuccess;
  const int64_t rb = H * element_bytes(type);
  gather<<<static_cast<unsigned>(rows_out), kThreads, 0, stream>>>(static_cast<const char*>(x), blocks, rb, block, vectorizable(x, out, rb),
                                                                    static_cast<char*>(out));
  return cudaGetLastError();
}

cudaError_t block_expand_rows(const void* g, const int32_t* slot, ElementType type, int64_t S, int64_t H, int64_t block, void* dx,
                              cudaStream_t stream) {
  if (S == 0) return cudaSuccess;
  const int64_t rb = H * element_bytes(type);
  expand<<<static_cast<unsigned>(S), kThreads, 0, stream>>>(static_cast<const char*>(g), slot, rb, block, vectorizable(g, dx, rb),
                                                             static_cast<char*>(dx));
  return cudaGetLastError();
}

cudaError_t block_residual_add(const void* x, const void* upd, const int32_t* slot, ElementType type, int64_t S, int64_t H,
                               int64_t block, void* h, cudaStream_t stream) {
  if (S == 0) return cudaSuccess;
  const auto grid = static_cast<unsigned>(S);
  switch (type) {
    case ElementType::F32:
      residual_add<float><<<grid, kThreads, 0, stream>>>(static_cast<const float*>(x), static_cast<const float*>(upd), slot, H, block,
                                                         static_cast<float*>(h));
      break;
    case ElementType::F16:
      residual_add<__half><<<grid, kThreads, 0, stream>>>(static_cast<const __half*>(x), static_cast<const __half*>(upd), slot, H, block,
                                                          static_cast<__half*>(h));
      break;
    case ElementType::BF16:
      residual_add<__nv_bfloat16><<<grid, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(upd),
                                                                 slot, H, block, static_cast<__nv_bfloat16*>(h));
      break;
  }
  return cudaGetLastError();
}

}  // namespace jenga::core::kernels
