// hamming_select.cuh: one thread block per query head. One pass counts the keys at each number of
// shared bits; one thread finds the threshold t (the fewest shared bits a kept key has) and how
// many keys at exactly t are kept, the latest ones; keep_in_order (ordered_select.cuh) writes the
// kept keys ascending.
#include "attention/hamming_select.cuh"

#include "attention/ordered_select.cuh"

namespace jenga::core::kernels {
namespace {

constexpr int kThreadsSel = 1024;
constexpr int kWarpsSel = kThreadsSel / 32;
constexpr int kMaxBins = 65;  // shared-bit counts 0..64

template <int W>
__device__ __forceinline__ int shared_bits(const uint32_t (&q)[W], const uint32_t* key, int bits) {
  int differ = 0;
#pragma unroll
  for (int w = 0; w < W; ++w) differ += __popc(q[w] ^ key[w]);
  return bits - differ;  // padding bits are 0 in both codes
}

template <int W>
__global__ void __launch_bounds__(kThreadsSel) select_kernel(HammingSelect p, int64_t* out) {
  __shared__ int hist[kWarpsSel][kMaxBins];
  __shared__ int2 warp_sums[kWarpsSel];
  __shared__ int s_t, s_need;
  const int tid = threadIdx.x, warp = tid >> 5;
  const int h = blockIdx.x, hk = h / (p.q_heads / p.kv_heads);
  uint32_t q[W];
#pragma unroll
  for (int w = 0; w < W; ++w) q[w] = p.q[static_cast<int64_t>(h) * p.words + w];
  const uint32_t* keys = p.k + static_cast<int64_t>(hk) * p.head_stride;

  for (int i = tid; i < kWarpsSel * kMaxBins; i += kThreadsSel) (&hist[0][0])[i] = 0;
  __syncthreads();
  for (int i = tid; i < p.seq_k; i += kThreadsSel) atomicAdd(&hist[warp][shared_bits<W>(q, keys + i * p.key_stride, p.bits)], 1);
  sum_warp_histograms(hist, p.bits + 1);
  if (tid == 0) {
    // Walk down from the most shared bits until `keep` keys are covered.
    int above = 0, t = 0;
    for (int b = p.bits; b >= 0; --b) {
      if (above + hist[0][b] >= p.keep) {
        t = b;
        break;
      }
      above += hist[0][b];
    }
    s_t = t;
    s_need = p.keep - above;  // kept at exactly t shared bits
  }
  __syncthreads();
  int64_t* dst = out + static_cast<int64_t>(h) * p.keep;
  keep_in_order<kWarpsSel>(
      p.seq_k, s_t, s_need, [&](int i) { return shared_bits<W>(q, keys + i * p.key_stride, p.bits); },
      [&](int slot, int i) { dst[slot] = i; }, warp_sums);
}

__global__ void pack_signs_kernel(const float* x, int64_t rows, int bits, int words, uint32_t* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // (row, word)
  if (i >= rows * words) return;
  const float* src = x + (i / words) * bits;
  const int first = static_cast<int>(i % words) * 32;
  uint32_t v = 0;
  for (int j = 0; j < 32 && first + j < bits; ++j) v |= static_cast<uint32_t>(src[first + j] >= 0.f) << j;
  out[i] = v;
}

}  // namespace

cudaError_t pack_signs(const float* x, int64_t rows, int bits, uint32_t* out, cudaStream_t stream) {
  if (x == nullptr || out == nullptr || rows < 0 || bits < 1) return cudaErrorInvalidValue;
  const int words = (bits + 31) / 32;
  const int64_t n = rows * words;
  if (n == 0) return cudaSuccess;
  pack_signs_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(x, rows, bits, words, out);
  return cudaGetLastError();
}

cudaError_t hamming_select(const HammingSelect& p, int64_t* out, cudaStream_t stream) {
  if (p.q_heads <= 0 || p.kv_heads <= 0 || p.q_heads % p.kv_heads != 0 || p.words < 1 || p.words > 2 || p.bits < 1 ||
      p.bits > 32 * p.words || p.seq_k < 1 || p.keep < 1 || p.keep > p.seq_k || p.q == nullptr || p.k == nullptr || out == nullptr)
    return cudaErrorInvalidValue;
  if (p.words == 1) select_kernel<1><<<p.q_heads, kThreadsSel, 0, stream>>>(p, out);
  else select_kernel<2><<<p.q_heads, kThreadsSel, 0, stream>>>(p, out);
  return cudaGetLastError();
}

}  // namespace jenga::core::kernels
