// One thread block per (query block, key block) pair on or below the diagonal; 256 threads, each
// owning a 4 x 4 tile of the 64 x 64 score block. Per head: Q and K tiles are staged in shared
// memory as fp32 in D-chunks of 32, scores accumulated in registers, then ReLU, causal mask,
// max over the tile and a block-wide max; thread 0 adds the head's max to the running sum.
#include "kernels/block_map.cuh"

#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace jenga::core::kernels {
namespace {

constexpr int kBlock = 64;   // tokens per block (the kernel's tile; other sizes are rejected)
constexpr int kChunk = 32;   // head-dim elements staged per round
constexpr int kThreads = 256;

template <typename T> __device__ inline float load(const T* p) { return to_float(*p); }

template <typename T>
__global__ void __launch_bounds__(kThreads) block_map_kernel(const T* q, const T* k, int64_t seq, int q_heads, int group,
                                                             int head_dim, int64_t q_stride, int64_t k_stride, int nb,
                                                             float* out) {
  // Map the linear block index onto the lower triangle: pair p -> (i, j), j <= i.
  const int64_t p = blockIdx.x;
  int i = static_cast<int>((sqrtf(8.f * static_cast<float>(p) + 1.f) - 1.f) * 0.5f);
  while (static_cast<int64_t>(i) * (i + 1) / 2 > p) --i;
  while (static_cast<int64_t>(i + 1) * (i + 2) / 2 <= p) ++i;
  const int j = static_cast<int>(p - static_cast<int64_t>(i) * (i + 1) / 2);

  __shared__ float qs[kBlock][kChunk + 1];
  __shared__ float ks[kBlock][kChunk + 1];
  __shared__ float warp_max[kThreads / 32];
  const int tr = threadIdx.x / 16, tc = threadIdx.x % 16;  // this thread's rows tr*4.., cols tc*4..
  const int64_t q0 = static_cast<int64_t>(i) * kBlock, k0 = static_cast<int64_t>(j) * kBlock;
  float total = 0.f;

  for (int h = 0; h < q_heads; ++h) {
    const int kh = h / group;
    float acc[4][4] = {};
    for (int d0 = 0; d0 < head_dim; d0 += kChunk) {
      for (int e = threadIdx.x; e < kBlock * kChunk; e += kThreads) {
        const int r = e / kChunk, c = e % kChunk;
        const bool in_d = d0 + c < head_dim;
        qs[r][c] = (q0 + r < seq && in_d) ? load(q + (q0 + r) * q_stride + static_cast<int64_t>(h) * head_dim + d0 + c) : 0.f;
        ks[r][c] = (k0 + r < seq && in_d) ? load(k + (k0 + r) * k_stride + static_cast<int64_t>(kh) * head_dim + d0 + c) : 0.f;
      }
      __syncthreads();
      for (int c = 0; c < kChunk; ++c) {
        float a[4], b[4];
        for (int x = 0; x < 4; ++x) a[x] = qs[tr * 4 + x][c];
        for (int y = 0; y < 4; ++y) b[y] = ks[tc * 4 + y][c];
        for (int x = 0; x < 4; ++x)
          for (int y = 0; y < 4; ++y) acc[x][y] = fmaf(a[x], b[y], acc[x][y]);
      }
      __syncthreads();
    }
    // ReLU makes 0 the floor, so masked and out-of-range entries simply do not count.
    float m = 0.f;
    for (int x = 0; x < 4; ++x)
      for (int y = 0; y < 4; ++y) {
        const int64_t r = q0 + tr * 4 + x, c = k0 + tc * 4 + y;
        if (r < seq && c < seq && c <= r) m = fmaxf(m, acc[x][y]);
      }
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
      float bm = 0.f;
      for (int w = 0; w < kThreads / 32; ++w) bm = fmaxf(bm, warp_max[w]);
      total += bm;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[static_cast<int64_t>(i) * nb + j] = total;
}

template <typename T>
cudaError_t launch(const void* q, const void* k, int64_t seq, int64_t qh, int64_t kvh, int64_t d, int64_t qs, int64_t ks,
                   float* out, cudaStream_t stream) {
  const int64_t nb = (seq + kBlock - 1) / kBlock;
  const int64_t pairs = nb * (nb + 1) / 2;
  if (pairs == 0) return cudaSuccess;
  if (pairs > 0x7fffffffLL) return cudaErrorInvalidValue;
  // Above-diagonal entries are zero by definition: clear the whole map first.
  if (const auto rc = cudaMemsetAsync(out, 0, static_cast<size_t>(nb * nb) * sizeof(float), stream); rc != cudaSuccess) return rc;
  block_map_kernel<T><<<static_cast<unsigned>(pairs), kThreads, 0, stream>>>(
      static_cast<const T*>(q), static_cast<const T*>(k), seq, static_cast<int>(qh), static_cast<int>(qh / kvh),
      static_cast<int>(d), qs, ks, static_cast<int>(nb), out);
  return cudaGetLastError();
}

}  // namespace

cudaError_t block_attention_map(const void* q, const void* k, ElementType type, int64_t seq, int64_t q_heads,
                                int64_t kv_heads, int64_t head_dim, int64_t q_row_stride, int64_t k_row_stride,
                                int64_t block, float* out, cudaStream_t stream) {
  if (block != kBlock || q_heads <= 0 || kv_heads <= 0 || q_heads % kv_heads != 0 || head_dim <= 0 || seq < 0)
    return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::F32: return launch<float>(q, k, seq, q_heads, kv_heads, head_dim, q_row_stride, k_row_stride, out, stream);
    case ElementType::F16: return launch<__half>(q, k, seq, q_heads, kv_heads, head_dim, q_row_stride, k_row_stride, out, stream);
    case ElementType::BF16: return launch<__nv_bfloat16>(q, k, seq, q_heads, kv_heads, head_dim, q_row_stride, k_row_stride, out, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
