// What the forward and backward kernels share about one layout row: where its key tiles come
// from (listed 64-key blocks, then the column list gathered 64 at a time), how a tile is copied
// into shared memory, and the causal mask.
#pragma once

#include "attention/block_sparse_flash.cuh"
#include "attention/mma_fragments.cuh"

#include <cmath>

namespace jenga::core::kernels::flash {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kKeys = 64;      // keys per tile = key block size
constexpr int kFar = 1 << 30;  // the position of a padding key: after every query, so always masked
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// The key tiles of layout row `row`: tiles [0, nb) are its listed blocks, tiles [nb, n_tiles)
// its columns in groups of 64. Indices out of range become padding keys (masked, zero-filled),
// so a malformed layout cannot make a kernel read outside k / v.
struct RowTiles {
  const int32_t* blocks = nullptr;
  const int32_t* cols = nullptr;
  int nb = 0, nc = 0, n_tiles = 0, seq_k = 0, k_blocks = 0;

  __device__ RowTiles(const BlockSparseProblem& p, int row) : seq_k(p.seq_k), k_blocks(p.k_blocks) {
    const int b0 = p.block_offsets[row];
    nb = p.block_offsets[row + 1] - b0;
    blocks = p.block_indices + b0;
    if (p.column_offsets != nullptr) {
      const int c0 = p.column_offsets[row];
      nc = p.column_offsets[row + 1] - c0;
      cols = p.columns + c0;
    }
    n_tiles = nb + (nc + kKeys - 1) / kKeys;
  }
  __device__ bool is_block(int t) const { return t < nb; }
  // First key position of block tile t (kFar for an index out of range).
  __device__ int block_start(int t) const {
    const int j = blocks[t];
    return (j >= 0 && j < k_blocks) ? j * kKeys : kFar;
  }
  // Position of key r of column tile t (kFar past the list's end or out of range).
  __device__ int column(int t, int r) const {
    const int i = (t - nb) * kKeys + r;
    if (i >= nc) return kFar;
    const int c = cols[i];
    return (c >= 0 && c < seq_k) ? c : kFar;
  }
};

// Shared tile layouts the loaders take: Layout::at(r, c) is the element offset of (r, c).
template <int W>
struct Swz {
  static __device__ __forceinline__ int at(int r, int c) { return swz<W>(r, c); }
};

// Thread block -> (query head, its key/value head, first query row) for the query-major kernels.
// One key/value head at a time (grid y), within it query tiles latest (longest) first and the
// group's query heads side by side (grid x): the K / V being read at any moment are one head's,
// which stay in L2 (32 MB at 64K keys and D 128), where heads-fastest order streams every head's
// K / V from memory again for each query tile.
struct QueryTile {
  int h, hk, q0;
};
__device__ __forceinline__ QueryTile query_tile(const BlockSparseProblem& p, int rows) {
  const int group = p.q_heads / p.kv_heads;
  const int tiles = static_cast<int>(gridDim.x) / group;
  const int hk = static_cast<int>(blockIdx.y);
  return {hk * group + static_cast<int>(blockIdx.x) % group, hk, (tiles - 1 - static_cast<int>(blockIdx.x) / group) * rows};
}
inline dim3 query_grid(const BlockSparseProblem& p, int rows) {
  return dim3(static_cast<unsigned>((p.q_heads / p.kv_heads) * ((p.seq_q + rows - 1) / rows)), static_cast<unsigned>(p.kv_heads));
}

// Copies the [64][D] rows of key tile t of one head (base already offset to the head) into a
// swizzled shared tile, zero rows for padding keys; the tile's key positions go to pos[64]. NT
// threads share the copy: thread tid always copies 16-byte column chunk tid % (D / 8) of every
// NT / (D / 8)-th row, so a listed block's source and destination only step by whole rows. The
// kernels issue these copies between their tensor-core steps; a generic element loop (a divide,
// a block-or-column branch and a 64-bit multiply per chunk) made the Hopper forward 30% slower.
template <int D, typename Layout = Swz<D>, int NT = kThreads, typename T>
__device__ __forceinline__ void load_key_tile(T* dst, const T* base, int64_t stride, const RowTiles& rt, int t, int* pos,
                                              int tid) {
  constexpr int kChunks = D / 8, kStep = NT / kChunks;
  static_assert(NT % kChunks == 0 && kKeys % kStep == 0, "threads must tile the key block by whole rows");
  const int c = (tid % kChunks) * 8, r0 = tid / kChunks;
  if (rt.is_block(t)) {
    const int start = rt.block_start(t);
    const T* src = base + static_cast<int64_t>(start == kFar ? 0 : start + r0) * stride + c;
#pragma unroll
    for (int i = 0; i < kKeys / kStep; ++i) {
      const int r = r0 + i * kStep;
      const bool ok = start != kFar && start + r < rt.seq_k;
      cp_async16(dst + Layout::at(r, c), ok ? src + static_cast<int64_t>(i * kStep) * stride : base, ok);
    }
    if (pos != nullptr && tid < kKeys) pos[tid] = start == kFar ? kFar : start + tid;
  } else {
#pragma unroll
    for (int i = 0; i < kKeys / kStep; ++i) {
      const int r = r0 + i * kStep, at = rt.column(t, r);
      const bool ok = at < rt.seq_k;
      cp_async16(dst + Layout::at(r, c), base + (ok ? static_cast<int64_t>(at) * stride + c : 0), ok);
    }
    if (pos != nullptr && tid < kKeys) pos[tid] = rt.column(t, tid);
  }
}

// Copies rows [r0, r0 + rows) of one head of a token-major tensor (zeros past `limit`), with the
// same fixed per-thread chunk as load_key_tile.
template <int D, typename Layout = Swz<D>, int NT = kThreads, typename T>
__device__ __forceinline__ void load_rows(T* dst, const T* base, int64_t stride, int r0, int rows, int limit, int tid) {
  constexpr int kChunks = D / 8, kStep = NT / kChunks;
  static_assert(NT % kChunks == 0, "threads must cover whole rows");
  const int c = (tid % kChunks) * 8;
  const T* src = base + static_cast<int64_t>(r0) * stride + c;
  for (int r = tid / kChunks; r < rows; r += kStep) {
    const bool ok = r0 + r < limit;
    cp_async16(dst + Layout::at(r, c), ok ? src + static_cast<int64_t>(r) * stride : base, ok);
  }
}

// Writes a warp's own rows [r0, r0 + rows) of a swizzled tile to global memory, 16 bytes a lane.
template <int D, typename T>
__device__ __forceinline__ void store_rows(T* base, int64_t stride, const T* tile, int r0, int rows, int g0, int limit,
                                           int lane) {
  constexpr int kChunks = D / 8;
  for (int e = lane; e < rows * kChunks; e += 32) {
    const int r = r0 + e / kChunks, c = (e % kChunks) * 8;
    if (g0 + r < limit)
      *reinterpret_cast<uint4*>(base + static_cast<int64_t>(g0 + r) * stride + c) =
          *reinterpret_cast<const uint4*>(tile + swz<D>(r, c));
  }
}

}  // namespace jenga::core::kernels::flash
