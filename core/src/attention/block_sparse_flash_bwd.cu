// Backward, FlashAttention-2's recomputation with two owners instead of atomics, so block
// entries reduce in a fixed order (bitwise-reproducible gradients):
//  - delta = rowsum(dO * O) per query (one warp per query and head);
//  - dQ: one thread block per (query head, 64-query tile), like the forward: it walks the row's
//    key tiles (two shared-memory stages, the next tile in flight), recomputes P from the saved
//    logsumexp, dP = dO V^T, dS = P (dP - delta) and accumulates dQ += dS K in registers. Column
//    tiles also add their dK = dS^T Q and dV = P^T dO into fp32 scratch with atomics (a column is
//    shared by query blocks that no one thread block sees together);
//  - dK, dV: one thread block per (key/value head, 64-key block), warps owning 16 keys each: it
//    walks the key-major transpose of the layout (every query tile of the group's query heads
//    that lists the block), recomputes P^T = exp(K Q^T - lse), and accumulates dV += P^T dO and
//    dK += dS^T Q in registers, then adds the column scratch and stores.
// The price of owning instead of atomics is recomputing Q K^T and dO V^T twice (7 tile MMAs per
// attended block instead of 5).
#include "attention/block_sparse_flash.cuh"

#include "attention/key_tiles.cuh"
#include "attention/mma_fragments.cuh"
#include "kernels/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace jenga::core::kernels {
namespace {

using namespace flash;

constexpr int kRows = 64;  // query rows per tile in both backward kernels

template <typename T, int D>
__global__ void delta_kernel(const T* out, int64_t out_stride, const T* dout, int64_t dout_stride, float* delta, int seq_q,
                             int heads) {
  const int64_t w = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (w >= static_cast<int64_t>(seq_q) * heads) return;
  const int i = static_cast<int>(w / heads), h = static_cast<int>(w % heads), lane = threadIdx.x & 31;
  const T* o = out + static_cast<int64_t>(i) * out_stride + static_cast<int64_t>(h) * D;
  const T* d = dout + static_cast<int64_t>(i) * dout_stride + static_cast<int64_t>(h) * D;
  float acc = 0.f;
  for (int c = lane; c < D; c += 32) acc += to_float(o[c]) * to_float(d[c]);
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if (lane == 0) delta[static_cast<int64_t>(h) * seq_q + i] = acc;
}

// dK / dV contributions of one column tile: warp w takes keys 16w..16w+15 of the tile and
// reduces over the tile's 64 queries from the staged P and dS ([query][key], bf16/fp16).
template <typename T, int D>
__device__ void column_grads(const T* sP, const T* sdS, const T* sQ, const T* sdO, const int* pos,
                             const BlockSparseProblem& p, const BlockSparseBackward& g, int hk, int warp, int lane) {
  const int gr = lane >> 2, t4 = lane & 3;
  for (int dc = 0; dc < D; dc += 32) {
    float av[4][4] = {}, ak[4][4] = {};
#pragma unroll
    for (int kq = 0; kq < kRows / 16; ++kq) {
      uint32_t ap[4], ad[4];
      load_a_trans<kKeys>(ap, sP, warp * 16, kq * 16, lane);
      load_a_trans<kKeys>(ad, sdS, warp * 16, kq * 16, lane);
#pragma unroll
      for (int np = 0; np < 2; ++np) {
        uint32_t b[4];
        load_b_kn<D>(b, sdO, kq * 16, dc + np * 16, lane);
        mma16816<T>(av[2 * np], ap, b[0], b[1]);
        mma16816<T>(av[2 * np + 1], ap, b[2], b[3]);
        load_b_kn<D>(b, sQ, kq * 16, dc + np * 16, lane);
        mma16816<T>(ak[2 * np], ad, b[0], b[1]);
        mma16816<T>(ak[2 * np + 1], ad, b[2], b[3]);
      }
    }
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int at = pos[warp * 16 + gr + ((e >> 1) << 3)];
        if (at >= p.seq_k) continue;
        const int64_t i = (static_cast<int64_t>(at) * p.kv_heads + hk) * D + dc + n * 8 + t4 * 2 + (e & 1);
        atomicAdd(g.dv_columns + i, av[n][e]);
        atomicAdd(g.dk_columns + i, ak[n][e] * p.scale);
      }
  }
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) dq_kernel(BlockSparseProblem p, BlockSparseBackward g) {
  extern __shared__ __align__(128) unsigned char smem[];
  T* sQ = reinterpret_cast<T*>(smem);
  T* sdO = sQ + kRows * D;
  T* sK = sdO + kRows * D;      // [2 stages][64][D]
  T* sV = sK + 2 * kKeys * D;   // [2 stages][64][D]
  T* sP = sV + 2 * kKeys * D;   // [64][64], column tiles only
  T* sdS = sP + kRows * kKeys;  // [64][64]
  int* sPos = reinterpret_cast<int*>(sdS + kRows * kKeys);  // [2][64]

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gr = lane >> 2, t4 = lane & 3;
  const QueryTile qt = query_tile(p, kRows);
  const int h = qt.h, hk = qt.hk, q0 = qt.q0;
  const int row = h * p.q_blocks + q0 / p.block_q;
  const int first_pos = p.seq_k - p.seq_q + q0;
  const RowTiles rt(p, row);

  const T* gk = static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D;
  const T* gv = static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D;
  load_rows<D>(sQ, static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D, p.q_stride, q0, kRows, p.seq_q, tid);
  load_rows<D>(sdO, static_cast<const T*>(g.dout) + static_cast<int64_t>(h) * D, g.dout_stride, q0, kRows, p.seq_q, tid);
  if (rt.n_tiles > 0) {
    load_key_tile<D>(sK, gk, p.k_stride, rt, 0, sPos, tid);
    load_key_tile<D>(sV, gv, p.v_stride, rt, 0, nullptr, tid);
  }
  cp_async_commit();

  // This thread's rows g and g + 8 of the warp's 16: log2-domain logsumexp and delta. A row past
  // the end gets lse = +inf, so its P (and everything after) is 0.
  float lse2[2], dl[2];
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const int qi = q0 + warp * 16 + gr + hf * 8;
    const bool ok = qi < p.seq_q;
    lse2[hf] = ok ? g.lse[static_cast<int64_t>(h) * p.seq_q + qi] * kLog2e : INFINITY;
    dl[hf] = ok ? g.delta[static_cast<int64_t>(h) * p.seq_q + qi] : 0.f;
  }
  const float sl2 = p.scale * kLog2e;
  float dq[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.f;

  for (int t = 0; t < rt.n_tiles; ++t) {
    const int st = t & 1;
    if (t + 1 < rt.n_tiles) {
      load_key_tile<D>(sK + (st ^ 1) * kKeys * D, gk, p.k_stride, rt, t + 1, sPos + (st ^ 1) * kKeys, tid);
      load_key_tile<D>(sV + (st ^ 1) * kKeys * D, gv, p.v_stride, rt, t + 1, nullptr, tid);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const T* k_ = sK + st * kKeys * D;
    const T* v_ = sV + st * kKeys * D;
    const int* pos = sPos + st * kKeys;

    float s[8][4] = {}, dp[8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t a[4], ad[4];
      load_a<D>(a, sQ, warp * 16, kk * 16, lane);
      load_a<D>(ad, sdO, warp * 16, kk * 16, lane);
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t b[4];
        load_b_nk<D>(b, k_, np * 16, kk * 16, lane);
        mma16816<T>(s[2 * np], a, b[0], b[1]);
        mma16816<T>(s[2 * np + 1], a, b[2], b[3]);
        load_b_nk<D>(b, v_, np * 16, kk * 16, lane);
        mma16816<T>(dp[2 * np], ad, b[0], b[1]);
        mma16816<T>(dp[2 * np + 1], ad, b[2], b[3]);
      }
    }
    const bool block = rt.is_block(t);
    const int start = block ? rt.block_start(t) : 0;
    const bool masked = !block || start + kKeys - 1 > first_pos;
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int hf = e >> 1, col = n * 8 + t4 * 2 + (e & 1);
        float x = s[n][e];
        if (masked) {
          const int qpos = first_pos + warp * 16 + gr + hf * 8;
          const int kpos = block ? (start == kFar ? kFar : start + col) : pos[col];
          if (kpos > qpos) x = -INFINITY;
        }
        s[n][e] = ex2(fmaf(x, sl2, -lse2[hf]));   // P
        dp[n][e] = s[n][e] * (dp[n][e] - dl[hf]);  // dS
      }
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      uint32_t a[4];
      c_to_a<T>(a, dp[2 * kk], dp[2 * kk + 1]);
#pragma unroll
      for (int np = 0; np < D / 16; ++np) {
        uint32_t b[4];
        load_b_kn<D>(b, k_, kk * 16, np * 16, lane);
        mma16816<T>(dq[2 * np], a, b[0], b[1]);
        mma16816<T>(dq[2 * np + 1], a, b[2], b[3]);
      }
    }
    if (!block && g.dk_columns != nullptr) {
#pragma unroll
      for (int n = 0; n < 8; ++n)
#pragma unroll
        for (int hf = 0; hf < 2; ++hf) {
          const int r = warp * 16 + gr + hf * 8, c = n * 8 + t4 * 2;
          *reinterpret_cast<uint32_t*>(sP + swz<kKeys>(r, c)) = pack2<T>(s[n][2 * hf], s[n][2 * hf + 1]);
          *reinterpret_cast<uint32_t*>(sdS + swz<kKeys>(r, c)) = pack2<T>(dp[n][2 * hf], dp[n][2 * hf + 1]);
        }
      __syncthreads();
      column_grads<T, D>(sP, sdS, sQ, sdO, pos, p, g, hk, warp, lane);
    }
    __syncthreads();  // stage st (and sP / sdS) free for reuse
  }

  cp_async_wait<0>();
  __syncthreads();
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf)
      *reinterpret_cast<uint32_t*>(sQ + swz<D>(warp * 16 + gr + hf * 8, n * 8 + t4 * 2)) =
          pack2<T>(dq[n][2 * hf] * p.scale, dq[n][2 * hf + 1] * p.scale);
  __syncwarp();
  const int64_t stride = static_cast<int64_t>(p.q_heads) * D;
  store_rows<D>(static_cast<T*>(g.dq) + static_cast<int64_t>(h) * D, stride, sQ, warp * 16, 16, q0, p.seq_q, lane);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) dkdv_kernel(BlockSparseProblem p, BlockSparseBackward g) {
  extern __shared__ __align__(128) unsigned char smem[];
  T* sK = reinterpret_cast<T*>(smem);
  T* sV = sK + kKeys * D;
  T* sQ = sV + kKeys * D;        // [2 stages][64][D]
  T* sdO = sQ + 2 * kRows * D;   // [2 stages][64][D]
  float* sL = reinterpret_cast<float*>(sdO + 2 * kRows * D);  // [2][64] lse
  float* sD = sL + 2 * kRows;                                 // [2][64] delta

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gr = lane >> 2, t4 = lane & 3;
  const int j = blockIdx.x, hk = blockIdx.y, k0 = j * kKeys;
  const int q_off = p.seq_k - p.seq_q;
  const int halves = p.block_q / kRows;  // 64-query tiles per layout row
  const int c = hk * p.k_blocks + j;
  const int e0 = g.kv_offsets[c], total = (g.kv_offsets[c + 1] - e0) * halves;

  // Work unit u: 64-query tile u % halves of the u / halves-th row listing this block, skipped
  // when none of its queries can see a key of the block.
  const auto unit_q0 = [&](int u, int& h) {
    const int r = g.kv_rows[e0 + u / halves];
    h = r / p.q_blocks;
    return (r % p.q_blocks) * p.block_q + (u % halves) * kRows;
  };
  const auto next_unit = [&](int u) {
    for (; u < total; ++u) {
      int h;
      const int q0 = unit_q0(u, h);
      if (q0 < p.seq_q && k0 <= q_off + min(q0 + kRows, p.seq_q) - 1) break;
    }
    return u;
  };
  const auto load_unit = [&](int stage, int u) {
    int h;
    const int q0 = unit_q0(u, h);
    load_rows<D>(sQ + stage * kRows * D, static_cast<const T*>(p.q) + static_cast<int64_t>(h) * D, p.q_stride, q0, kRows,
                 p.seq_q, tid);
    load_rows<D>(sdO + stage * kRows * D, static_cast<const T*>(g.dout) + static_cast<int64_t>(h) * D, g.dout_stride, q0,
                 kRows, p.seq_q, tid);
    if (tid < kRows) {
      const bool ok = q0 + tid < p.seq_q;
      const int64_t i = static_cast<int64_t>(h) * p.seq_q + (ok ? q0 + tid : 0);
      cp_async4(sL + stage * kRows + tid, g.lse + i, ok);
      cp_async4(sD + stage * kRows + tid, g.delta + i, ok);
    }
  };

  load_rows<D>(sK, static_cast<const T*>(p.k) + static_cast<int64_t>(hk) * D, p.k_stride, k0, kKeys, p.seq_k, tid);
  load_rows<D>(sV, static_cast<const T*>(p.v) + static_cast<int64_t>(hk) * D, p.v_stride, k0, kKeys, p.seq_k, tid);
  int u = next_unit(0);
  if (u < total) load_unit(0, u);
  cp_async_commit();

  const float sl2 = p.scale * kLog2e;
  float dk[D / 8][4], dv[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[n][e] = dv[n][e] = 0.f;

  for (int it = 0; u < total; ++it) {
    const int st = it & 1;
    const int un = next_unit(u + 1);
    if (un < total) {
      load_unit(st ^ 1, un);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    int h;
    const int q0 = unit_q0(u, h);
    const T* q_ = sQ + st * kRows * D;
    const T* do_ = sdO + st * kRows * D;
    const float* l_ = sL + st * kRows;
    const float* d_ = sD + st * kRows;

    // S^T = K Q^T and dP^T = V dO^T for the warp's 16 keys x the tile's 64 queries.
    float s[8][4] = {}, dp[8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t ak[4], av[4];
      load_a<D>(ak, sK, warp * 16, kk * 16, lane);
      load_a<D>(av, sV, warp * 16, kk * 16, lane);
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t b[4];
        load_b_nk<D>(b, q_, np * 16, kk * 16, lane);
        mma16816<T>(s[2 * np], ak, b[0], b[1]);
        mma16816<T>(s[2 * np + 1], ak, b[2], b[3]);
        load_b_nk<D>(b, do_, np * 16, kk * 16, lane);
        mma16816<T>(dp[2 * np], av, b[0], b[1]);
        mma16816<T>(dp[2 * np + 1], av, b[2], b[3]);
      }
    }
    const bool masked = k0 + kKeys - 1 > q_off + q0;
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = n * 8 + t4 * 2 + (e & 1);  // query of the tile
        float x = s[n][e];
        if (masked && k0 + warp * 16 + gr + ((e >> 1) << 3) > q_off + q0 + col) x = -INFINITY;
        s[n][e] = ex2(fmaf(x, sl2, -l_[col] * kLog2e));  // P^T
        dp[n][e] = s[n][e] * (dp[n][e] - d_[col]);        // dS^T
      }
#pragma unroll
    for (int kk = 0; kk < kRows / 16; ++kk) {
      uint32_t ap[4], ads[4];
      c_to_a<T>(ap, s[2 * kk], s[2 * kk + 1]);
      c_to_a<T>(ads, dp[2 * kk], dp[2 * kk + 1]);
#pragma unroll
      for (int np = 0; np < D / 16; ++np) {
        uint32_t b[4];
        load_b_kn<D>(b, do_, kk * 16, np * 16, lane);
        mma16816<T>(dv[2 * np], ap, b[0], b[1]);
        mma16816<T>(dv[2 * np + 1], ap, b[2], b[3]);
        load_b_kn<D>(b, q_, kk * 16, np * 16, lane);
        mma16816<T>(dk[2 * np], ads, b[0], b[1]);
        mma16816<T>(dk[2 * np + 1], ads, b[2], b[3]);
      }
    }
    __syncthreads();  // stage st free for the unit after next
    u = un;
  }

  cp_async_wait<0>();
  __syncthreads();
  // Scale, add the column tiles' share, stage in the warp's own rows of sK / sV, store.
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const int r = warp * 16 + gr + hf * 8;
    const bool ok = k0 + r < p.seq_k && g.dk_columns != nullptr;
    const int64_t base = (static_cast<int64_t>(k0 + r) * p.kv_heads + hk) * D;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      const int d = n * 8 + t4 * 2;
      float k_a = dk[n][2 * hf] * p.scale, k_b = dk[n][2 * hf + 1] * p.scale;
      float v_a = dv[n][2 * hf], v_b = dv[n][2 * hf + 1];
      if (ok) {
        k_a += g.dk_columns[base + d];
        k_b += g.dk_columns[base + d + 1];
        v_a += g.dv_columns[base + d];
        v_b += g.dv_columns[base + d + 1];
      }
      *reinterpret_cast<uint32_t*>(sK + swz<D>(r, d)) = pack2<T>(k_a, k_b);
      *reinterpret_cast<uint32_t*>(sV + swz<D>(r, d)) = pack2<T>(v_a, v_b);
    }
  }
  __syncwarp();
  const int64_t stride = static_cast<int64_t>(p.kv_heads) * D;
  store_rows<D>(static_cast<T*>(g.dk) + static_cast<int64_t>(hk) * D, stride, sK, warp * 16, 16, k0, p.seq_k, lane);
  store_rows<D>(static_cast<T*>(g.dv) + static_cast<int64_t>(hk) * D, stride, sV, warp * 16, 16, k0, p.seq_k, lane);
}

template <typename Kernel>
cudaError_t allow_smem(Kernel kernel, int bytes) {
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
}

template <typename T, int D>
cudaError_t launch(const BlockSparseProblem& p, const BlockSparseBackward& g, cudaStream_t stream) {
  {
    constexpr int kWarpsPerBlock = 8;
    const int64_t rows = static_cast<int64_t>(p.seq_q) * p.q_heads;
    const unsigned blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    delta_kernel<T, D><<<blocks, 32 * kWarpsPerBlock, 0, stream>>>(static_cast<const T*>(g.out), g.out_stride,
                                                                   static_cast<const T*>(g.dout), g.dout_stride, g.delta,
                                                                   p.seq_q, p.q_heads);
    if (const auto e = cudaGetLastError(); e != cudaSuccess) return e;
  }
  {  // dQ first: its column tiles fill the scratch the dK / dV kernel folds in
    const int smem = (2 * kRows + 4 * kKeys) * D * static_cast<int>(sizeof(T)) +
                     2 * kRows * kKeys * static_cast<int>(sizeof(T)) + 2 * kKeys * static_cast<int>(sizeof(int));
    if (const auto e = allow_smem(dq_kernel<T, D>, smem); e != cudaSuccess) return e;
    const dim3 grid = query_grid(p, kRows);
    dq_kernel<T, D><<<grid, kThreads, smem, stream>>>(p, g);
    if (const auto e = cudaGetLastError(); e != cudaSuccess) return e;
  }
  {
    const int smem = (2 * kKeys + 4 * kRows) * D * static_cast<int>(sizeof(T)) + 4 * kRows * static_cast<int>(sizeof(float));
    if (const auto e = allow_smem(dkdv_kernel<T, D>, smem); e != cudaSuccess) return e;
    const dim3 grid(static_cast<unsigned>(p.k_blocks), static_cast<unsigned>(p.kv_heads));
    dkdv_kernel<T, D><<<grid, kThreads, smem, stream>>>(p, g);
    return cudaGetLastError();
  }
}

template <typename T>
cudaError_t by_dim(const BlockSparseProblem& p, const BlockSparseBackward& g, cudaStream_t stream) {
  return p.head_dim == 64 ? launch<T, 64>(p, g, stream) : launch<T, 128>(p, g, stream);
}

}  // namespace

cudaError_t block_sparse_flash_backward(const BlockSparseProblem& p, const BlockSparseBackward& g, ElementType type,
                                        cudaStream_t stream) {
  if (!block_sparse_problem_ok(p) || g.out_stride % 8 != 0 || g.dout_stride % 8 != 0 || g.kv_offsets == nullptr ||
      g.kv_rows == nullptr || (g.dk_columns == nullptr) != (g.dv_columns == nullptr) ||
      (p.columns != nullptr && g.dk_columns == nullptr))
    return cudaErrorInvalidValue;
  switch (type) {
    case ElementType::BF16: return by_dim<__nv_bfloat16>(p, g, stream);
    case ElementType::F16: return by_dim<__half>(p, g, stream);
    case ElementType::F32: break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace jenga::core::kernels
