// Decode step (one query per head): split-key attention over a layout row (block_sparse_flash.cuh).
// A decode step reads each selected key and value once and does one multiply-add per element it
// loads, so it is bound by memory, not tensor cores; what matters is enough loads in flight. Grid (head,
// split): each thread block takes an equal run of the row's keys (its listed blocks as 64 keys
// each, then its columns) in steps of 128, 8 lanes per key for q . k (16-byte loads, a shuffle
// reduction), then 8 or 16 keys side by side for P V with one 16-byte chunk of V a thread, and
// writes its unnormalised output with its running max and sum. The merge kernel rescales the
// splits to a common max (the flash-decoding combine).
#include "attention/block_sparse_flash.cuh"

#include "attention/key_tiles.cuh"
#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <atomic>

namespace jenga::core::kernels {
namespace {

using namespace flash;

constexpr int kThreadsDec = 128;
constexpr int kStep = 128;      // keys per step of a thread block
constexpr int kLanesPerKey = 8; // q . k: 8 lanes share one key row

// 8 elements of a 16-byte chunk as floats.
template <typename T>
__device__ __forceinline__ void to_floats(const uint4& u, float (&f)[8]) {
  const T* e = reinterpret_cast<const T*>(&u);
#pragma unroll
  for (int i = 0; i < 8; ++i) f[i] = to_float(e[i]);
}

// Position of key i of the row's virtual list (blocks as 64 keys each, then columns); kFar for a
// padding key (index out of range).
__device__ __forceinline__ int key_position(const RowTiles& rt, int i) {
  const int in_blocks = rt.nb * kKeys;
  if (i < in_blocks) {
    const int start = rt.block_start(i / kKeys);
    return start == kFar ? kFar : start + i % kKeys;
  }
  const int c = i - in_blocks;
  return rt.column(rt.nb + c / kKeys, c % kKeys);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreadsDec) decode_split_kernel(BlockSparseProblem p, int splits, float* part) {
  constexpr int kChunks = D / 8;                           // 16-byte chunks of a key row
  constexpr int kChunksPerLane = kChunks / kLanesPerKey;   // q . k: 1 (D 64) or 2 (D 128)
  constexpr int kKeysQK = kThreadsDec / kLanesPerKey;      // keys side by side for q . k: 16
  constexpr int kKeysPV = kThreadsDec / kChunks;           // keys side by side for P V: 16 or 8
  __shared__ float sq[D];
  __shared__ int spos[kStep];
  __shared__ float sp[kStep];
  __shared__ float red[kKeysPV][D];
  __shared__ float s_corr;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int h = blockIdx.x, split = blockIdx.y, hk = h / (p.q_heads / p.kv_heads);
  const RowTiles rt(p, h);  // seq_q == 1: row h
  const int total = rt.nb * kKeys + rt.nc;
  const int begin = static_cast<int>(static_cast<int64_t>(total) * split / splits);
  const int end = static_cast<int>(static_cast<int64_t>(total) * (split + 1) / splits);
  const int qpos = p.seq_k - 1;
  const float sl2 = p.scale * kLog2e;

  const T* gq = static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D;
  const T* gk = static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D;
  const T* gv = static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D;
  if (tid < kChunks) {
    float f[8];
    to_floats<T>(*reinterpret_cast<const uint4*>(gq + tid * 8), f);
#pragma unroll
    for (int e = 0; e < 8; ++e) sq[tid * 8 + e] = f[e] * sl2;  // scores come out in base-2 units
  }

  // Running max and sum (warp 0 keeps them; every lane holds the same values).
  float m_run = -INFINITY, l_run = 0.f;
  float acc[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) acc[e] = 0.f;
  const int qk_key = tid / kLanesPerKey, qk_lane = tid % kLanesPerKey;
  const int pv_key = tid / kChunks, pv_chunk = tid % kChunks;

  for (int base = begin; base < end; base += kStep) {
    if (tid < kStep) {
      const int i = base + tid;
      const int pos = i < end ? key_position(rt, i) : kFar;
      spos[tid] = pos <= qpos ? pos : -1;  // -1: not attended (padding, past the end, or after the query)
    }
    __syncthreads();  // positions (and, the first time, q) visible

    // q . k, 16 keys side by side; loads of masked keys read row 0 and are discarded, so every
    // load of the step is issued before the first use.
    float dot[kStep / kKeysQK];
#pragma unroll
    for (int pass = 0; pass < kStep / kKeysQK; ++pass) {
      const int pos = spos[pass * kKeysQK + qk_key];
      const T* row = gk + static_cast<int64_t>(pos < 0 ? 0 : pos) * p.k_stride;
      float d = 0.f;
#pragma unroll
      for (int cc = 0; cc < kChunksPerLane; ++cc) {
        const int chunk = qk_lane + cc * kLanesPerKey;
        float f[8];
        to_floats<T>(*reinterpret_cast<const uint4*>(row + chunk * 8), f);
#pragma unroll
        for (int e = 0; e < 8; ++e) d = fmaf(f[e], sq[chunk * 8 + e], d);
      }
      dot[pass] = d;
    }
#pragma unroll
    for (int pass = 0; pass < kStep / kKeysQK; ++pass) {
      float d = dot[pass];
      d += __shfl_xor_sync(0xffffffffu, d, 4);
      d += __shfl_xor_sync(0xffffffffu, d, 2);
      d += __shfl_xor_sync(0xffffffffu, d, 1);
      const int j = pass * kKeysQK + qk_key;
      if (qk_lane == 0) sp[j] = spos[j] < 0 ? -INFINITY : d;
    }
    __syncthreads();  // scores visible

    if (warp == 0) {
      float x[kStep / 32];
      float mx = -INFINITY;
#pragma unroll
      for (int i = 0; i < kStep / 32; ++i) {
        x[i] = sp[lane + 32 * i];
        mx = fmaxf(mx, x[i]);
      }
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      const float m_new = fmaxf(m_run, mx);
      const float m_use = m_new == -INFINITY ? 0.f : m_new;  // nothing attended yet: keep exp finite
      const float corr = ex2(m_run - m_use);
      float sum = 0.f;
#pragma unroll
      for (int i = 0; i < kStep / 32; ++i) {
        const float e = ex2(x[i] - m_use);  // -inf -> 0
        sp[lane + 32 * i] = e;
        sum += e;
      }
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      m_run = m_new;
      l_run = l_run * corr + sum;
      if (lane == 0) s_corr = corr;
    }
    __syncthreads();  // weights and the correction visible

    const float corr = s_corr;
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[e] *= corr;
#pragma unroll
    for (int it = 0; it < kStep / kKeysPV; ++it) {
      const int j = it * kKeysPV + pv_key;
      const int pos = spos[j];
      const float w = sp[j];
      const T* row = gv + static_cast<int64_t>(pos < 0 ? 0 : pos) * p.v_stride;
      float f[8];
      to_floats<T>(*reinterpret_cast<const uint4*>(row + pv_chunk * 8), f);
      if (pos >= 0) {
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[e] = fmaf(w, f[e], acc[e]);
      }
    }
    __syncthreads();  // positions and weights consumed before the next step overwrites them
  }

  // Sum the key groups' partial outputs; write [D] then max and sum.
#pragma unroll
  for (int e = 0; e < 8; ++e) red[pv_key][pv_chunk * 8 + e] = acc[e];
  __syncthreads();
  float* dst = part + (static_cast<int64_t>(h) * splits + split) * (D + 2);
  for (int d = tid; d < D; d += kThreadsDec) {
    float s = 0.f;
#pragma unroll
    for (int g = 0; g < kKeysPV; ++g) s += red[g][d];
    dst[d] = s;
  }
  if (tid == 0) {
    dst[D] = m_run;
    dst[D + 1] = l_run;
  }
}

// One thread block per head, one thread per output element: the splits rescaled to their common
// max, normalised; lse = natural log of the total sum (+inf and a zero output when nothing was
// attended).
template <typename T, int D>
__global__ void __launch_bounds__(D) decode_merge_kernel(int splits, const float* part, T* out, float* lse) {
  const int h = blockIdx.x, d = threadIdx.x;
  const float* src = part + static_cast<int64_t>(h) * splits * (D + 2);
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, src[s * (D + 2) + D]);
  float l = 0.f, o = 0.f;
  if (m != -INFINITY) {
    for (int s = 0; s < splits; ++s) {
      const float ms = src[s * (D + 2) + D];
      const float w = ms == -INFINITY ? 0.f : ex2(ms - m);
      l = fmaf(w, src[s * (D + 2) + D + 1], l);
      o = fmaf(w, src[s * (D + 2) + d], o);
    }
  }
  out[static_cast<int64_t>(h) * D + d] = from_float<T>(l > 0.f ? o / l : 0.f);
  if (d == 0) lse[h] = l > 0.f ? m * kLn2 + logf(l) : INFINITY;
}

template <typename T, int D>
cudaError_t launch(const BlockSparseProblem& p, int splits, float* workspace, void* out, float* lse, cudaStream_t stream) {
  decode_split_kernel<T, D><<<dim3(static_cast<unsigned>(p.q_heads), static_cast<unsigned>(splits)), kThreadsDec, 0, stream>>>(
      p, splits, workspace);
  if (const auto e = cudaGetLastError(); e != cudaSuccess) return e;
  decode_merge_kernel<T, D><<<static_cast<unsigned>(p.q_heads), D, 0, stream>>>(splits, workspace, static_cast<T*>(out), lse);
  return cudaGetLastError();
}

template <typename T>
cudaError_t by_dim(const BlockSparseProblem& p, int splits, float* workspace, void* out, float* lse, cudaStream_t stream) {
  return p.head_dim == 64 ? launch<T, 64>(p, splits, workspace, out, lse, stream) : launch<T, 128>(p, splits, workspace, out, lse, stream);
}

}  // namespace

int block_sparse_decode_splits(const BlockSparseProblem& p) {
  // Asked once per device: this runs for every layer of every decode step.
  static std::atomic<int> known[64];  // multiprocessors, 0 unknown
  int dev = 0, sms = 0;
  if (cudaGetDevice(&dev) == cudaSuccess && dev >= 0 && dev < 64) {
    sms = known[dev].load();
    if (sms == 0 && cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess && sms > 0) known[dev].store(sms);
  }
  if (sms <= 0) {
    cudaGetLastError();  // a failed query must not poison the next launch
    sms = 132;
  }
  // About four thread blocks per multiprocessor over all heads, but no split shorter than two
  // steps of the longest possible row (every key of the sequence).
  const int want = (4 * sms + p.q_heads - 1) / std::max(1, p.q_heads);
  const int by_length = (p.seq_k + 2 * kStep - 1) / (2 * kStep);
  return std::max(1, std::min({want, by_length, 256}));
}

size_t block_sparse_decode_workspace_floats(const BlockSparseProblem& p, int splits) {
  return static_cast<size_t>(p.q_heads) * static_cast<size_t>(splits) * static_cast<size_t>(p.head_dim + 2);
}

cudaError_t block_sparse_flash_decode(const BlockSparseProblem& p, ElementType type, int splits, float* workspace, void* out,
                                      float* lse, cudaStream_t stream) {
  if (!block_sparse_problem_ok(p) || p.seq_q != 1 || splits < 1 || workspace == nullptr) return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::BF16: return by_dim<__nv_bfloat16>(p, splits, workspace, out, lse, stream);
    case ElementType::F16: return by_dim<__half>(p, splits, workspace, out, lse, stream);
    case ElementType::F32: break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
