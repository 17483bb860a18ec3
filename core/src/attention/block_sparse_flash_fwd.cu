// Forward: one thread block per (query head, query tile of 64 * MT rows), 4 warps of 16 * MT query
// rows each, FlashAttention-2's loop over the row's key tiles only. Q stays in shared memory; K and
// V of the next tile are in flight while the current one is multiplied (K(t+1) during P V(t),
// V(t) during Q K(t)^T). S = Q K^T and O += P V on mma.sync m16n8k16 with fp32 accumulators; the
// online softmax runs on the accumulators in registers (base-2, scale folded in). Masking is paid
// only on tiles that reach past the tile's first query (the diagonal) and on column tiles.
#include "attention/block_sparse_flash.cuh"

#include "attention/key_tiles.cuh"
#include "attention/mma_fragments.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace jenga::core::kernels {
namespace {

using namespace flash;

template <typename T, int D, int MT, int MIN_BLOCKS, bool LAZY>
__global__ void __launch_bounds__(kThreads, MIN_BLOCKS) forward_kernel(BlockSparseProblem p, T* out, int64_t out_stride, float* lse) {
  constexpr int BM = 16 * kWarps * MT;  // query rows of the thread block
  constexpr int RW = 16 * MT;           // query rows of one warp
  extern __shared__ __align__(128) unsigned char smem[];
  T* sQ = reinterpret_cast<T*>(smem);
  T* sK = sQ + BM * D;
  T* sV = sK + kKeys * D;
  int* sPos = reinterpret_cast<int*>(sV + kKeys * D);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t4 = lane & 3;
  const QueryTile qt = query_tile(p, BM);
  const int h = qt.h, hk = qt.hk, q0 = qt.q0;
  const int row = h * p.q_blocks + q0 / p.block_q;
  const int first_pos = p.seq_k - p.seq_q + q0;  // key position of the tile's first query
  const RowTiles rt(p, row);

  const T* gq = static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D;
  const T* gk = static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D;
  const T* gv = static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D;
  load_rows<D>(sQ, gq, p.q_stride, q0, BM, p.seq_q, tid);
  if (rt.n_tiles > 0) load_key_tile<D>(sK, gk, p.k_stride, rt, 0, sPos, tid);
  cp_async_commit();

  float o[MT][D / 8][4];
  float m[MT][2], l[MT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.f;
    m[mt][0] = m[mt][1] = -INFINITY;
    l[mt][0] = l[mt][1] = 0.f;
  }
  const float sl2 = p.scale * kLog2e;

  for (int t = 0; t < rt.n_tiles; ++t) {
    cp_async_wait<0>();
    __syncthreads();  // K(t) (and Q) landed; every warp is done with V(t - 1)
    load_key_tile<D>(sV, gv, p.v_stride, rt, t, nullptr, tid);
    cp_async_commit();

    float s[MT][8][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int n = 0; n < 8; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t a[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) load_a<D>(a[mt], sQ, warp * RW + mt * 16, kk * 16, lane);
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t b[4];
        load_b_nk<D>(b, sK, np * 16, kk * 16, lane);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<T>(s[mt][2 * np], a[mt], b[0], b[1]);
          mma16816<T>(s[mt][2 * np + 1], a[mt], b[2], b[3]);
        }
      }
    }

    const bool block = rt.is_block(t);
    const int start = block ? rt.block_start(t) : 0;
    if (!block || start + kKeys - 1 > first_pos) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int n = 0; n < 8; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int col = n * 8 + t4 * 2 + (e & 1);
            const int qpos = first_pos + warp * RW + mt * 16 + g + ((e >> 1) << 3);
            const int kpos = block ? (start == kFar ? kFar : start + col) : sPos[col];
            if (kpos > qpos) s[mt][n][e] = -INFINITY;
          }
    }

    // Online softmax: rows g and g + 8 of each m16 tile; the quad of lanes holds one row. LAZY
    // (FlashAttention-4): O and l move to new maxima only when some row of the warp grew by more
    // than 2^8; otherwise the old maxima stay and P stays <= 256.
    float mx[MT][2];
    bool grew = false;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float v = -INFINITY;
#pragma unroll
        for (int n = 0; n < 8; ++n) v = fmaxf(v, fmaxf(s[mt][n][2 * hf], s[mt][n][2 * hf + 1]));
        mx[mt][hf] = fmaxf(m[mt][hf], quad_max(v) * sl2);
        grew |= mx[mt][hf] > m[mt][hf] + 8.f;
      }
    if (!LAZY || __any_sync(0xffffffffu, grew)) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
          const float m_use = mx[mt][hf] == -INFINITY ? 0.f : mx[mt][hf];  // no key seen yet: keep exp finite
          const float corr = ex2(m[mt][hf] - m_use);
          m[mt][hf] = mx[mt][hf];
          l[mt][hf] *= corr;
#pragma unroll
          for (int n = 0; n < D / 8; ++n) {
            o[mt][n][2 * hf] *= corr;
            o[mt][n][2 * hf + 1] *= corr;
          }
        }
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        const float m_use = m[mt][hf] == -INFINITY ? 0.f : m[mt][hf];
        float sum = 0.f;
#pragma unroll
        for (int n = 0; n < 8; ++n)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float& x = s[mt][n][2 * hf + e];
            x = ex2(fmaf(x, sl2, -m_use));
            sum += x;
          }
        l[mt][hf] += sum;
      }

    cp_async_wait<0>();
    __syncthreads();  // V(t) landed; every warp is done with K(t) and the tile's positions
    if (t + 1 < rt.n_tiles) load_key_tile<D>(sK, gk, p.k_stride, rt, t + 1, sPos, tid);
    cp_async_commit();

#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      uint32_t a[MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) c_to_a<T>(a[mt], s[mt][2 * kk], s[mt][2 * kk + 1]);
#pragma unroll
      for (int np = 0; np < D / 16; ++np) {
        uint32_t b[4];
        load_b_kn<D>(b, sV, kk * 16, np * 16, lane);
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma16816<T>(o[mt][2 * np], a[mt], b[0], b[1]);
          mma16816<T>(o[mt][2 * np + 1], a[mt], b[2], b[3]);
        }
      }
    }
  }

  cp_async_wait<0>();
  __syncthreads();  // all copies landed (Q's too when the row had no tiles) before sQ is reused
  // Normalise, stage the warp's rows in its own rows of sQ, then write 16 bytes a lane.
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const float sum = quad_sum(l[mt][hf]);
      const float inv = sum > 0.f ? 1.f / sum : 0.f;
      const int r = warp * RW + mt * 16 + g + hf * 8;
#pragma unroll
      for (int n = 0; n < D / 8; ++n)
        *reinterpret_cast<uint32_t*>(sQ + swz<D>(r, n * 8 + t4 * 2)) = pack2<T>(o[mt][n][2 * hf] * inv, o[mt][n][2 * hf + 1] * inv);
      if (t4 == 0 && q0 + r < p.seq_q)
        lse[static_cast<int64_t>(h) * p.seq_q + q0 + r] = sum > 0.f ? m[mt][hf] * kLn2 + logf(sum) : INFINITY;
    }
  __syncwarp();
  store_rows<D>(out + static_cast<int64_t>(h) * D, out_stride, sQ, warp * RW, RW, q0, p.seq_q, lane);
}

// MIN_BLOCKS: 64-row tiles run three blocks per SM (H200, 64K, 10% of blocks, forced to this
// kernel: 13.8 ms at two blocks with eager rescaling, 12.4 at three with lazy, 13.3 at four, whose
// 128 registers spill; three also fit an A100's shared memory, four would not).
template <typename T, int D, int MT, int MIN_BLOCKS, bool LAZY>
cudaError_t launch(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  constexpr int BM = 16 * kWarps * MT;
  const int smem = (BM + 2 * kKeys) * D * static_cast<int>(sizeof(T)) + kKeys * static_cast<int>(sizeof(int));
  const auto kernel = forward_kernel<T, D, MT, MIN_BLOCKS, LAZY>;
  if (const auto e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem); e != cudaSuccess) return e;
  const dim3 grid = query_grid(p, BM);
  kernel<<<grid, kThreads, smem, stream>>>(p, static_cast<T*>(out), out_stride, lse);
  return cudaGetLastError();
}

template <typename T>
cudaError_t by_shape(const BlockSparseProblem& p, void* out, int64_t out_stride, float* lse, cudaStream_t stream) {
  // A 128-query layout row is one thread block of 4 warps x 32 rows: each K/V fragment read from
  // shared memory feeds two MMAs.
  if (p.head_dim == 64)
    return p.block_q == 128 ? launch<T, 64, 2, 1, true>(p, out, out_stride, lse, stream) : launch<T, 64, 1, 3, true>(p, out, out_stride, lse, stream);
  return p.block_q == 128 ? launch<T, 128, 2, 1, true>(p, out, out_stride, lse, stream) : launch<T, 128, 1, 3, true>(p, out, out_stride, lse, stream);
}

}  // namespace

bool block_sparse_problem_ok(const BlockSparseProblem& p) {
  return p.q_heads > 0 && p.kv_heads > 0 && p.q_heads % p.kv_heads == 0 && (p.head_dim == 64 || p.head_dim == 128) &&
         (p.block_q == 64 || p.block_q == 128) && p.seq_q > 0 && p.seq_q <= p.seq_k && p.seq_k < kFar - 2 * kKeys &&
         p.q_blocks == (p.seq_q + p.block_q - 1) / p.block_q && p.k_blocks == (p.seq_k + kKeys - 1) / kKeys &&
         p.q_stride % 8 == 0 && p.k_stride % 8 == 0 && p.v_stride % 8 == 0 && p.scale > 0.f &&
         p.block_offsets != nullptr && p.block_indices != nullptr && (p.column_offsets == nullptr) == (p.columns == nullptr);
}

cudaError_t block_sparse_flash_forward(const BlockSparseProblem& p, ElementType type, void* out, int64_t out_stride,
                                       float* lse, cudaStream_t stream) {
  if (!block_sparse_problem_ok(p) || out_stride % 8 != 0) return cudaErrorInvalidValue;
  if (p.path != 1 && block_sparse_sm90_ready()) return block_sparse_flash_forward_sm90(p, type, out, out_stride, lse, stream);
  if (p.path == 2) return cudaErrorNotSupported;
  switch (type) {
    case ElementType::BF16: return by_shape<__nv_bfloat16>(p, out, out_stride, lse, stream);
    case ElementType::F16: return by_shape<__half>(p, out, out_stride, lse, stream);
    case ElementType::F32: break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
