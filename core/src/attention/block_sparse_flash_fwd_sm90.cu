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
  // [2][kKeys]: tile t's key positions at t % 2. One slot would do (the next tile's are written
  // after this tile's mask), but at 128 registers ptxas then spills three times as much.
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

  // Descriptors: one base each, the k16 steps' addresses added as constants where the wgmma is
  // issued (the address field is the low 14 bits, in 16-byte units; shared addresses stay below
  // 256 KB, so the add never carries out of it). An array of 20 precomputed 64-bit descriptors
  // cost 40 registers, which at four blocks per multiprocessor spilled.
  const T* my_q = sQ + wg * 64 * D;
  const uint64_t dq0 = smem_desc(my_q, 16, 1024), dk0 = smem_desc(sK, 16, 1024);
  const uint64_t dv0 = smem_desc(sV, 64 * 64 * sizeof(T), 1024);
  // K-major Q / K: k16 step kk sits in 64-column region kk / 4, 32 bytes a step within it.
  constexpr auto kmajor = [](int kk) { return static_cast<uint64_t>(((kk >> 2) * 64 * 64 + (kk & 3) * 16) * sizeof(T) >> 4); };
  // MN-major V: k16 step kk is 16 key rows further.
  constexpr auto mnmajor = [](int kk) { return static_cast<uint64_t>(kk * 16 * 64 * sizeof(T) >> 4); };

  float o[D / 2];
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  const float sl2 = p.scale * kLog2e;

  for (int t = 0; t < rt.n_tiles; ++t) {
    const int* pos = sPos + (t & 1) * kKeys;
    cp_async_wait<0>();
    fence_proxy_async();
    __syncthreads();  // K(t) (and Q) visible to the tensor cores; V(t - 1) no longer read
    load_key_tile<D, Sw128<64>, NT>(sV, gv, p.v_stride, rt, t, nullptr, tid);
    cp_async_commit();

    float s[32];
    wgmma_fence();
    wgmma_m64n64_ss_first<T>(s, dq0, dk0);
#pragma unroll
    for (int kk = 1; kk < D / 16; ++kk) wgmma_m64n64_ss<T>(s, dq0 + kmajor(kk), dk0 + kmajor(kk));
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
        const int kpos = block ? (start == kFar ? kFar : start + col) : pos[col];
        if (kpos > qpos) s[i] = -INFINITY;
      }
    }
    float mx[2];
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      float v = -INFINITY;
#pragma unroll
      for (int c = 0; c < 8; ++c) v = fmaxf(v, fmaxf(s[4 * c + 2 * hf], s[4 * c + 2 * hf + 1]));
      mx[hf] = fmaxf(m[hf], quad_max(v) * sl2);
    }
    // Lazy rescaling (FlashAttention-4): O and l move to the new maxima only when some row of the
    // warp grew by more than 2^8; otherwise the old maxima stay and P stays <= 256, exact in
    // fp32 and as precise in bf16. Skipping the 64 multiplies of O most tiles is worth 2%.
    if (__any_sync(0xffffffffu, mx[0] > m[0] + 8.f || mx[1] > m[1] + 8.f)) {
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        const float m_use = mx[hf] == -INFINITY ? 0.f : mx[hf];  // no key seen yet: keep exp finite
        const float corr = ex2(m[hf] - m_use);
        m[hf] = mx[hf];
        l[hf] *= corr;
#pragma unroll
        for (int c = 0; c < D / 8; ++c) {
          o[4 * c + 2 * hf] *= corr;
          o[4 * c + 2 * hf + 1] *= corr;
        }
      }
    }
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const float m_use = m[hf] == -INFINITY ? 0.f : m[hf];
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < 8; ++c)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[4 * c + 2 * hf + e];
          x = ex2(fmaf(x, sl2, -m_use));
          sum += x;
        }
      l[hf] += sum;
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
    if (t + 1 < rt.n_tiles) load_key_tile<D, Sw128<64>, NT>(sK, gk, p.k_stride, rt, t + 1, sPos + ((t + 1) & 1) * kKeys, tid);
    cp_async_commit();

    fence_regs(o);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) wgmma_pv<T, D>(o, a[kk], dv0 + mnmajor(kk));
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

template <typename T, int D, int WG>
cudaError_t launch(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  // One stage each of Q, K and V (49 KB at D 128 and 64 rows) and as many thread blocks as fit:
  // four per multiprocessor for 64-row tiles (128 registers), two for 128-row ones. Occupancy
  // beat pipeline depth: each block's warpgroup alternates tensor-core and softmax work, and
  // other blocks fill its gaps (64K, 10% of blocks: double-buffered K / V at two blocks 16.1 ms,
  // one stage at three 13.5, at four 12.8).
  constexpr int BM = 64 * WG, MIN_BLOCKS = WG == 1 ? 4 : 2;
  const int smem = (BM + 2 * kKeys) * D * static_cast<int>(sizeof(T)) + 2 * kKeys * static_cast<int>(sizeof(int)) + 1024;
  const auto kernel = forward_sm90_kernel<T, D, WG, MIN_BLOCKS>;
  if (const auto e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem); e != cudaSuccess) return e;
  const dim3 grid = query_grid(p, BM);
  kernel<<<grid, 128 * WG, smem, stream>>>(p, static_cast<T*>(out), out_stride, lse);
  return cudaGetLastError();
}

template <typename T>
cudaError_t by_shape(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
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
