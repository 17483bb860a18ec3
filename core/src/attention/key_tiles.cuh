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
// threads share the copy.
template <int D, typename Layout = Swz<D>, int NT = kThreads, typename T>
__device__ __forceinline__ void load_key_tile(T* dst, const T* base, int64_t stride, const RowTiles& rt, int t, int* pos,
                                              int tid) {
  constexpr int kChunks = D / 8;
  const bool block = rt.is_block(t);
  const int start = block ? rt.block_start(t) : 0;
  for (int e = tid; e < kKeys * kChunks; e += NT) {
    const int r = e / kChunks, c = (e % kChunks) * 8;
    const int at = block ? (start == kFar ? kFar : start + r) : rt.column(t, r);
    const bool ok = at < rt.seq_k;
    cp_async16(dst + Layout::at(r, c), base + (ok ? static_cast<int64_t>(at) * stride + c : 0), ok);
  }
  if (pos != nullptr && tid < kKeys) pos[tid] = block ? (start == kFar ? kFar : start + tid) : rt.column(t, tid);
}

// Copies rows [r0, r0 + rows) of one head of a token-major tensor (zeros past `limit`).
template <int D, typename Layout = Swz<D>, int NT = kThreads, typename T>
__device__ __forceinline__ void load_rows(T* dst, const T* base, int64_t stride, int r0, int rows, int limit, int tid) {
  constexpr int kChunks = D / 8;
  for (int e = tid; e < rows * kChunks; e += NT) {
    const int r = e / kChunks, c = (e % kChunks) * 8;
    const bool ok = r0 + r < limit;
    cp_async16(dst + Layout::at(r, c), base + (ok ? static_cast<int64_t>(r0 + r) * stride + c : 0), ok);
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
