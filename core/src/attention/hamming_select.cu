// hamming_select.cuh: one thread block per query head. Pass 1 counts the keys at each number of
// shared bits (per-warp histograms in shared memory: 33 bins would serialise a block's atomics);
// one thread finds the threshold t (the fewest shared bits a kept key has) and how many keys at
// exactly t are kept, the latest ones. Pass 2 gives each thread a contiguous run of keys, counts
// its keys above t and at t, and a block scan turns the counts into where each run's kept keys go
// in the output (ascending, because runs are in order). Pass 3 writes them.
#include "attention/hamming_select.cuh"

#include "attention/block_scan.cuh"

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
  __shared__ int s_t, s_skip;
  const int tid = threadIdx.x, warp = tid >> 5;
  const int h = blockIdx.x, hk = h / (p.q_heads / p.kv_heads);
  uint32_t q[W];
#pragma unroll
  for (int w = 0; w < W; ++w) q[w] = p.q[static_cast<int64_t>(h) * p.words + w];
  const uint32_t* keys = p.k + static_cast<int64_t>(hk) * p.head_stride;

  for (int i = tid; i < kWarpsSel * kMaxBins; i += kThreadsSel) (&hist[0][0])[i] = 0;
  __syncthreads();
  for (int i = tid; i < p.seq_k; i += kThreadsSel) atomicAdd(&hist[warp][shared_bits<W>(q, keys + i * p.key_stride, p.bits)], 1);
  __syncthreads();
  for (int b = tid; b <= p.bits; b += kThreadsSel) {
    int s = 0;
    for (int w = 0; w < kWarpsSel; ++w) s += hist[w][b];
    hist[0][b] = s;
  }
  __syncthreads();
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
    s_skip = hist[0][t] - (p.keep - above);  // the earliest keys at t that are not kept
  }
  __syncthreads();
  const int t = s_t, skip = s_skip;

  const int per = (p.seq_k + kThreadsSel - 1) / kThreadsSel;
  const int lo = min(p.seq_k, tid * per), hi = min(p.seq_k, lo + per);
  int n_above = 0, n_at = 0;
  for (int i = lo; i < hi; ++i) {
    const int s = shared_bits<W>(q, keys + i * p.key_stride, p.bits);
    n_above += s > t;
    n_at += s == t;
  }
  int above_before = 0, at_before = 0;
  block_scan2<kWarpsSel>(n_above, n_at, above_before, at_before, warp_sums);
  // Kept keys before this run: every one above t, and the ties at t past the first `skip`.
  int slot = above_before + max(0, at_before - skip), tie = at_before;
  int64_t* dst = out + static_cast<int64_t>(h) * p.keep;
  for (int i = lo; i < hi; ++i) {
    const int s = shared_bits<W>(q, keys + i * p.key_stride, p.bits);
    const bool kept = s > t || (s == t && tie++ >= skip);
    if (kept) dst[slot++] = i;
  }
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
