// Forward on Hopper (sm_90a): the loop of block_sparse_flash_fwd.cu (V(t) in flight during
// Q K(t)^T, K(t + 1) during P V(t)) with the two products on warpgroup MMA instead of per-warp
// mma.sync. One thread block per (query head, 64 * WG query
// rows), WG warpgroups of 64 rows sharing the K / V tiles. S = Q K^T is wgmma m64n64k16 with Q
// and K read by the tensor cores straight from swizzled shared memory (once per warpgroup, where
// mma.sync has each warp load its own fragments); O += P V is m64nDk16 with P from registers and
// V from shared memory (MN-major). The online softmax is the mma.sync kernel's, on the same
// fragment layout. Compiled as real code only for sm_90a; block_sparse_sm90_ready() says whether
// the running device got it.
#include "attention/block_sparse_flash.cuh"

#include "attention/key_tiles.cuh"
#include "attention/mma_fragments.cuh"
#include "attention/wgmma_ops.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <atomic>

#ifndef JENGA_SM90_MIN_BLOCKS
#define JENGA_SM90_MIN_BLOCKS 3
#endif

namespace jenga::core::kernels {
namespace {

using namespace flash;

// Query rows of WG warpgroups: [WG][D / 64][64][64].
template <int D>
struct QLayout {
  static __device__ __forceinline__ int at(int r, int c) { return (r >> 6) * (64 * D) + sw128<64>(r & 63, c); }
};

// O += P V for one k16 step: N = D.
template <typename T, int D>
__device__ __forceinline__ void wgmma_pv(float (&o)[D / 2], const uint32_t (&a)[4], uint64_t b) {
  if constexpr (D == 64) {
    wgmma_m64n64_rs<T>(o, a, b);
  } else {
    wgmma_m64n128_rs<T>(o, a, b);
  }
}

__device__ int g_sm90a_compiled;

__global__ void probe_kernel() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  g_sm90a_compiled = 1;
#else
  g_sm90a_compiled = 0;
#endif
}

template <typename T, int D, int WG, int MIN_BLOCKS>
__global__ void __launch_bounds__(128 * WG, MIN_BLOCKS) forward_sm90_kernel(BlockSparseProblem p, T* out, int64_t out_stride,
                                                                          float* lse) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int NT = 128 * WG, BM = 64 * WG;
  extern __shared__ unsigned char smem_raw[];
  // Swizzled regions must start on 1024 bytes (the launch adds the slack).
  unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
  T* sQ = reinterpret_cast<T*>(smem);
  T* sK = sQ + BM * D;
  T* sV = sK + kKeys * D;
  int* sPos = reinterpret_cast<int*>(sV + kKeys * D);

  const int tid = threadIdx.x, lane = tid & 31, wg = tid >> 7, w = (tid >> 5) & 3, g = lane >> 2, t4 = lane & 3;
  const QueryTile qt = query_tile(p, BM);
  const int h = qt.h, hk = qt.hk, q0 = qt.q0;
  const int row = h * p.q_blocks + q0 / p.block_q;
  const int first_pos = p.seq_k - p.seq_q + q0;
  const int my_row0 = wg * 64 + w * 16 + g;  // this thread's rows: my_row0 and my_row0 + 8
  const RowTiles rt(p, row);

  const T* gq = static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D;
  const T* gk = static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D;
  const T* gv = static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D;
  load_rows<D, QLayout<D>, NT>(sQ, gq, p.q_stride, q0, BM, p.seq_q, tid);
  if (rt.n_tiles > 0) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, 0, sPos, tid);
  cp_async_commit();

  // Descriptors: Q's per k16 step (a 64-column region, then 32 bytes a step), K's and V's fixed
  // (one stage each). Built once, outside the wgmma groups.
  const T* my_q = sQ + wg * 64 * D;
  uint64_t dq[D / 16], dk[D / 16], dv[kKeys / 16];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const int off = (kk >> 2) * 64 * 64 + (kk & 3) * 16;
    dq[kk] = smem_desc(my_q + off, 16, 1024);
    dk[kk] = smem_desc(sK + off, 16, 1024);
  }
#pragma unroll
  for (int kk = 0; kk < kKeys / 16; ++kk) dv[kk] = smem_desc(sV + kk * 16 * 64, 64 * 64 * sizeof(T), 1024);

  float o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  const float sl2 = p.scale * kLog2e;

  for (int t = 0; t < rt.n_tiles; ++t) {
    cp_async_wait<0>();
    fence_proxy_async();
    __syncthreads();  // K(t) (and Q) visible to the tensor cores; V(t - 1) no longer read
    load_key_tile<D, Sw128<64>, NT>(sV, gv, p.v_stride, rt, t, nullptr, tid);
    cp_async_commit();

    float s[32];
    wgmma_fence();
    wgmma_m64n64_ss_first<T>(s, dq[0], dk[0]);
#pragma unroll
    for (int kk = 1; kk < D / 16; ++kk) wgmma_m64n64_ss<T>(s, dq[kk], dk[kk]);
    wgmma_commit();
    wgmma_wait_all();
    fence_regs(s);

    const bool block = rt.is_block(t);
    const int start = block ? rt.block_start(t) : 0;
    if (!block || start + kKeys - 1 > first_pos) {
#pragma unroll
      for (int i = 0; i < 32; ++i) {
        const int col = (i >> 2) * 8 + t4 * 2 + (i & 1);
        const int qpos = first_pos + my_row0 + ((i >> 1) & 1) * 8;
        const int kpos = block ? (start == kFar ? kFar : start + col) : sPos[col];
        if (kpos > qpos) s[i] = -INFINITY;
      }
    }
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      float mx = -INFINITY;
#pragma unroll
      for (int c = 0; c < 8; ++c) mx = fmaxf(mx, fmaxf(s[4 * c + 2 * hf], s[4 * c + 2 * hf + 1]));
      const float m_new = fmaxf(m[hf], quad_max(mx) * sl2);
      const float m_use = m_new == -INFINITY ? 0.f : m_new;  // no key seen yet: keep exp finite
      const float corr = ex2(m[hf] - m_use);
      m[hf] = m_new;
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < 8; ++c)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[4 * c + 2 * hf + e];
          x = ex2(fmaf(x, sl2, -m_use));
          sum += x;
        }
      l[hf] = l[hf] * corr + sum;
#pragma unroll
      for (int c = 0; c < D / 8; ++c) {
        o[4 * c + 2 * hf] *= corr;
        o[4 * c + 2 * hf + 1] *= corr;
      }
    }
    // P as A fragments for the 4 k16 steps, all converted before the first wgmma reads any.
    uint32_t a[kKeys / 16][4];
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a[kk][i] = pack2<T>(s[8 * kk + 2 * i], s[8 * kk + 2 * i + 1]);
        asm volatile("" : "+r"(a[kk][i])::"memory");
      }

    cp_async_wait<0>();
    fence_proxy_async();
    __syncthreads();  // V(t) visible; every warpgroup is done with K(t) and the positions
    if (t + 1 < rt.n_tiles) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, t + 1, sPos, tid);
    cp_async_commit();

    fence_regs(o);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) wgmma_pv<T, D>(o, a[kk], dv[kk]);
    wgmma_commit();
    wgmma_wait_all();
    fence_regs(o);
  }

  cp_async_wait<0>();
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const float sum = quad_sum(l[hf]);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    const int r = q0 + my_row0 + hf * 8;
    if (r < p.seq_q) {
      T* dst = out + static_cast<int64_t>(r) * out_stride + static_cast<int64_t>(h) * D + t4 * 2;
#pragma unroll
      for (int n = 0; n < D / 8; ++n)
        *reinterpret_cast<uint32_t*>(dst + n * 8) = pack2<T>(o[4 * n + 2 * hf] * inv, o[4 * n + 2 * hf + 1] * inv);
      if (t4 == 0) lse[static_cast<int64_t>(h) * p.seq_q + r] = sum > 0.f ? m[hf] * kLn2 + logf(sum) : INFINITY;
    }
  }
#else
  __trap();  // never launched: block_sparse_sm90_ready() is false for such a build
#endif
}

// The causal mask of tile t for this thread's rows (only tiles reaching past the tile's first
// query, and column tiles, need it), then the online softmax: s becomes P (unnormalised, base 2),
// m and l advance, corr is what the output accumulated so far must be multiplied by.
__device__ __forceinline__ void mask_and_softmax(float (&s)[32], const RowTiles& rt, int t, const int* pos, int first_pos,
                                                 int my_row0, int t4, float sl2, float (&m)[2], float (&l)[2],
                                                 float (&corr)[2]) {
  const bool block = rt.is_block(t);
  const int start = block ? rt.block_start(t) : 0;
  if (!block || start + kKeys - 1 > first_pos) {
#pragma unroll
    for (int i = 0; i < 32; ++i) {
      const int col = (i >> 2) * 8 + t4 * 2 + (i & 1);
      const int qpos = first_pos + my_row0 + ((i >> 1) & 1) * 8;
      const int kpos = block ? (start == kFar ? kFar : start + col) : pos[col];
      if (kpos > qpos) s[i] = -INFINITY;
    }
  }
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    float mx = -INFINITY;
#pragma unroll
    for (int c = 0; c < 8; ++c) mx = fmaxf(mx, fmaxf(s[4 * c + 2 * hf], s[4 * c + 2 * hf + 1]));
    const float m_new = fmaxf(m[hf], quad_max(mx) * sl2);
    const float m_use = m_new == -INFINITY ? 0.f : m_new;  // no key seen yet: keep exp finite
    corr[hf] = ex2(m[hf] - m_use);
    m[hf] = m_new;
    float sum = 0.f;
#pragma unroll
    for (int c = 0; c < 8; ++c)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        float& x = s[4 * c + 2 * hf + e];
        x = ex2(fmaf(x, sl2, -m_use));
        sum += x;
      }
    l[hf] = l[hf] * corr[hf] + sum;
  }
}

// P (fp32 accumulator layout) as the A fragments of the 4 k16 steps of P V.
template <typename T>
__device__ __forceinline__ void pack_p(uint32_t (&a)[kKeys / 16][4], const float (&s)[32]) {
#pragma unroll
  for (int kk = 0; kk < kKeys / 16; ++kk)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      a[kk][i] = pack2<T>(s[8 * kk + 2 * i], s[8 * kk + 2 * i + 1]);
      asm volatile("" : "+r"(a[kk][i])::"memory");
    }
}

// The same forward with FlashAttention-3's intra-warpgroup pipelining: S(t + 1) = Q K(t + 1)^T is
// issued before O += P(t) V(t), and the softmax of tile t + 1 runs while the tensor cores do
// P(t) V(t) (O, the only register both touch, is rescaled after that product is waited for). K
// has one stage, loaded as soon as S(t + 1) is done; V has two, so V(t + 2) is loaded a whole
// tile ahead; key positions have two stages like V. One warpgroup (64 query rows) per block.
template <typename T, int D, int MIN_BLOCKS>
__global__ void __launch_bounds__(128, MIN_BLOCKS) forward_sm90_pipelined_kernel(BlockSparseProblem p, T* out, int64_t out_stride,
                                                                                 float* lse) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int NT = 128, BM = 64;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
  T* sQ = reinterpret_cast<T*>(smem);
  T* sK = sQ + BM * D;
  T* sV = sK + kKeys * D;  // two stages
  int* sPos = reinterpret_cast<int*>(sV + 2 * kKeys * D);  // two stages of kKeys

  const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, t4 = lane & 3;
  const QueryTile qt = query_tile(p, BM);
  const int h = qt.h, hk = qt.hk, q0 = qt.q0;
  const int row = h * p.q_blocks + q0 / p.block_q;
  const int first_pos = p.seq_k - p.seq_q + q0;
  const int my_row0 = w * 16 + g;
  const RowTiles rt(p, row);
  const int n = rt.n_tiles;

  const T* gq = static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D;
  const T* gk = static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D;
  const T* gv = static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D;
  T* sV0 = sV;
  T* sV1 = sV + kKeys * D;

  uint64_t dq[D / 16], dk[D / 16], dv0[kKeys / 16], dv1[kKeys / 16];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const int off = (kk >> 2) * 64 * 64 + (kk & 3) * 16;
    dq[kk] = smem_desc(sQ + off, 16, 1024);
    dk[kk] = smem_desc(sK + off, 16, 1024);
  }
#pragma unroll
  for (int kk = 0; kk < kKeys / 16; ++kk) {
    dv0[kk] = smem_desc(sV0 + kk * 16 * 64, 64 * 64 * sizeof(T), 1024);
    dv1[kk] = smem_desc(sV1 + kk * 16 * 64, 64 * 64 * sizeof(T), 1024);
  }

  float o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, corr[2];
  const float sl2 = p.scale * kLog2e;
  float s[32];
  uint32_t a[kKeys / 16][4];

  // Prologue: Q and K(0), V(0), S(0) and its softmax, then K(1), V(1) in flight. Commit groups
  // stay one per load (empty past the row's end) so the waits below count the same every tile.
  load_rows<D, QLayout<D>, NT>(sQ, gq, p.q_stride, q0, BM, p.seq_q, tid);
  if (n > 0) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, 0, sPos, tid);
  cp_async_commit();
  if (n > 0) load_key_tile<D, Sw128<64>, NT>(sV0, gv, p.v_stride, rt, 0, nullptr, tid);
  cp_async_commit();
  if (n > 0) {
    cp_async_wait<1>();
    fence_proxy_async();
    __syncthreads();  // Q, K(0) visible
    wgmma_fence();
    wgmma_m64n64_ss_first<T>(s, dq[0], dk[0]);
#pragma unroll
    for (int kk = 1; kk < D / 16; ++kk) wgmma_m64n64_ss<T>(s, dq[kk], dk[kk]);
    wgmma_commit();
    wgmma_wait_all();
    fence_regs(s);
    mask_and_softmax(s, rt, 0, sPos, first_pos, my_row0, t4, sl2, m, l, corr);
    pack_p<T>(a, s);
    __syncthreads();  // every warp is done with K(0) and its positions
  }
  if (n > 1) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, 1, sPos + kKeys, tid);
  cp_async_commit();
  if (n > 1) load_key_tile<D, Sw128<64>, NT>(sV1, gv, p.v_stride, rt, 1, nullptr, tid);
  cp_async_commit();

  // Every tile but the last: S(t + 1) and P(t) V(t) in one pipeline stage. No branch inside the
  // stage: ptxas serialises wgmmas whose accumulators a merge of paths would move.
  for (int t = 0; t + 1 < n; ++t) {
    cp_async_wait<1>();  // all but the newest group (V(t + 1)): K(t + 1) and V(t) landed
    fence_proxy_async();
    __syncthreads();
    const bool odd = t & 1;
    fence_regs(o);
    wgmma_fence();
    wgmma_m64n64_ss_first<T>(s, dq[0], dk[0]);
#pragma unroll
    for (int kk = 1; kk < D / 16; ++kk) wgmma_m64n64_ss<T>(s, dq[kk], dk[kk]);
    wgmma_commit();
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) wgmma_pv<T, D>(o, a[kk], odd ? dv1[kk] : dv0[kk]);
    wgmma_commit();
    wgmma_wait_one();  // S(t + 1) done; P(t) V(t) may still run
    fence_regs(s);
    __syncthreads();  // every warp's S(t + 1) is done: K's stage is free
    if (t + 2 < n) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, t + 2, odd ? sPos + kKeys : sPos, tid);
    cp_async_commit();
    mask_and_softmax(s, rt, t + 1, odd ? sPos : sPos + kKeys, first_pos, my_row0, t4, sl2, m, l, corr);
    wgmma_wait_all();  // P(t) V(t) done
    fence_regs(o);
#pragma unroll
    for (int c = 0; c < D / 8; ++c) {
      o[4 * c] *= corr[0];
      o[4 * c + 1] *= corr[0];
      o[4 * c + 2] *= corr[1];
      o[4 * c + 3] *= corr[1];
    }
    pack_p<T>(a, s);
    __syncthreads();  // every warp is done with V(t)'s stage
    if (t + 2 < n) load_key_tile<D, Sw128<64>, NT>(odd ? sV1 : sV0, gv, p.v_stride, rt, t + 2, nullptr, tid);
    cp_async_commit();
  }
  if (n > 0) {  // the last tile: P V only
    cp_async_wait<1>();
    fence_proxy_async();
    __syncthreads();
    const bool odd = (n - 1) & 1;
    fence_regs(o);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) wgmma_pv<T, D>(o, a[kk], odd ? dv1[kk] : dv0[kk]);
    wgmma_commit();
    wgmma_wait_all();
    fence_regs(o);
  }

  cp_async_wait<0>();
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const float sum = quad_sum(l[hf]);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    const int r = q0 + my_row0 + hf * 8;
    if (r < p.seq_q) {
      T* dst = out + static_cast<int64_t>(r) * out_stride + static_cast<int64_t>(h) * D + t4 * 2;
#pragma unroll
      for (int c = 0; c < D / 8; ++c)
        *reinterpret_cast<uint32_t*>(dst + c * 8) = pack2<T>(o[4 * c + 2 * hf] * inv, o[4 * c + 2 * hf + 1] * inv);
      if (t4 == 0) lse[static_cast<int64_t>(h) * p.seq_q + r] = sum > 0.f ? m[hf] * kLn2 + logf(sum) : INFINITY;
    }
  }
#else
  __trap();  // never launched: block_sparse_sm90_ready() is false for such a build
#endif
}

template <typename T, int D, int WG>
cudaError_t launch(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  // One stage each of Q, K and V (49 KB at D 128 and 64 rows). More thread blocks per
  // multiprocessor beat deeper pipelines here: each block's warpgroup alternates tensor-core and
  // softmax work, and other blocks fill the gaps.
  constexpr int BM = 64 * WG, MIN_BLOCKS = WG == 1 ? JENGA_SM90_MIN_BLOCKS : 1;
  const int smem = (BM + 2 * kKeys) * D * static_cast<int>(sizeof(T)) + kKeys * static_cast<int>(sizeof(int)) + 1024;
  const auto kernel = forward_sm90_kernel<T, D, WG, MIN_BLOCKS>;
  if (const auto e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem); e != cudaSuccess) return e;
  const dim3 grid = query_grid(p, BM);
  kernel<<<grid, 128 * WG, smem, stream>>>(p, static_cast<T*>(out), out_stride, lse);
  return cudaGetLastError();
}

template <typename T, int D>
cudaError_t launch_pipelined(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  // Q, K, two stages of V and of key positions: 65 KB at D 128, so three blocks a multiprocessor.
  const int smem = (64 + 3 * kKeys) * D * static_cast<int>(sizeof(T)) + 2 * kKeys * static_cast<int>(sizeof(int)) + 1024;
  const auto kernel = forward_sm90_pipelined_kernel<T, D, JENGA_SM90_MIN_BLOCKS>;
  if (const auto e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem); e != cudaSuccess) return e;
  kernel<<<query_grid(p, 64), 128, smem, stream>>>(p, static_cast<T*>(out), out_stride, lse);
  return cudaGetLastError();
}

template <typename T>
cudaError_t by_shape(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  if (p.path == 3 && p.block_q == 64)
    return p.head_dim == 64 ? launch_pipelined<T, 64>(p, out, out_stride, lse, stream) : launch_pipelined<T, 128>(p, out, out_stride, lse, stream);
  if (p.head_dim == 64)
    return p.block_q == 128 ? launch<T, 64, 2>(p, out, out_stride, lse, stream) : launch<T, 64, 1>(p, out, out_stride, lse, stream);
  return p.block_q == 128 ? launch<T, 128, 2>(p, out, out_stride, lse, stream) : launch<T, 128, 1>(p, out, out_stride, lse, stream);
}

}  // namespace

bool block_sparse_sm90_ready() {
  // Per device: compute capability 9.0 and the sm_90a code path present in this binary.
  static std::atomic<int> known[64];  // 0 unknown, 1 no, 2 yes
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return false;
  if (const int k = known[dev].load(); k != 0) return k == 2;
  int major = 0, minor = 0, flag = 0;
  bool ok = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
            cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess && major == 9 && minor == 0;
  if (ok) {
    probe_kernel<<<1, 1>>>();
    ok = cudaGetLastError() == cudaSuccess && cudaDeviceSynchronize() == cudaSuccess &&
         cudaMemcpyFromSymbol(&flag, g_sm90a_compiled, sizeof flag) == cudaSuccess && flag == 1;
  }
  cudaGetLastError();  // a failed probe (no sm_90 code at all) must not poison later launches
  known[dev].store(ok ? 2 : 1);
  return ok;
}

cudaError_t block_sparse_flash_forward_sm90(const BlockSparseProblem& p, ElementType type, void* out, int64_t out_stride,
                                            float* lse, cudaStream_t stream) {
  if (!block_sparse_problem_ok(p) || out_stride % 2 != 0) return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::BF16: return by_shape<__nv_bfloat16>(p, out, out_stride, lse, stream);
    case ElementType::F16: return by_shape<__half>(p, out, out_stride, lse, stream);
    case ElementType::F32: break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
