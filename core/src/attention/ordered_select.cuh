// What the decode-time selection kernels (hamming_select, quest_select) share: per-warp histograms
// summed into one, and the ordered keep: once a threshold t is known, every item whose key is above
// t and the last `need` items at t (ties go to later items), written in index order with no sort.
// One thread block of WARPS warps per row; every thread calls these.
#pragma once

#include <cuda_runtime.h>

namespace jenga::core::kernels {

// Sums hist[0..WARPS)[b] into hist[0][b] for b < bins (per-warp histograms keep a block's
// atomics on few bins from serialising).
template <int WARPS, int BINS>
__device__ __forceinline__ void sum_warp_histograms(int (&hist)[WARPS][BINS], int bins) {
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += 32 * WARPS) {
    int s = 0;
    for (int w = 0; w < WARPS; ++w) s += hist[w][b];
    hist[0][b] = s;
  }
  __syncthreads();
}

// Inclusive scan of (a, b) over the lanes of a warp.
__device__ __forceinline__ void warp_scan2(int& a, int& b) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int ta = __shfl_up_sync(0xffffffffu, a, o), tb = __shfl_up_sync(0xffffffffu, b, o);
    if (lane >= o) {
      a += ta;
      b += tb;
    }
  }
}

// Exclusive scan of (a, b) over the block; warp_sums: shared scratch of WARPS entries.
template <int WARPS>
__device__ __forceinline__ void block_scan2(int a, int b, int& a_before, int& b_before, int2* warp_sums) {
  static_assert(WARPS >= 1 && WARPS <= 32, "one warp scans the warp totals");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int sa = a, sb = b;
  warp_scan2(sa, sb);
  if (lane == 31) warp_sums[warp] = make_int2(sa, sb);
  __syncthreads();
  if (warp == 0) {
    const int2 v = lane < WARPS ? warp_sums[lane] : make_int2(0, 0);
    int xa = v.x, xb = v.y;
    warp_scan2(xa, xb);
    if (lane < WARPS) warp_sums[lane] = make_int2(xa - v.x, xb - v.y);  // exclusive, per warp
  }
  __syncthreads();
  a_before = warp_sums[warp].x + sa - a;
  b_before = warp_sums[warp].y + sb - b;
}

// Items [0, n) with keys key(i): emit(slot, i) for every kept item, slot its place among the kept
// ones in index order. Each thread walks a contiguous run of items twice (count, then emit), and a
// block scan of the counts says where its run's kept items start.
template <int WARPS, typename K, typename KeyFn, typename EmitFn>
__device__ __forceinline__ void keep_in_order(int n, K t, int need, KeyFn key, EmitFn emit, int2* warp_sums) {
  __shared__ int s_at_total;
  constexpr int kThreads = 32 * WARPS;
  const int per = (n + kThreads - 1) / kThreads;
  const int lo = min(n, static_cast<int>(threadIdx.x) * per), hi = min(n, lo + per);
  int n_above = 0, n_at = 0;
  for (int i = lo; i < hi; ++i) {
    const K k = key(i);
    n_above += k > t;
    n_at += k == t;
  }
  int above_before = 0, at_before = 0;
  block_scan2<WARPS>(n_above, n_at, above_before, at_before, warp_sums);
  if (threadIdx.x == kThreads - 1) s_at_total = at_before + n_at;  // the ties of the whole row
  __syncthreads();
  const int skip = s_at_total - need;  // the earliest items at t that are not kept
  // Kept before this run: every one above t, and the ties past the first `skip`.
  int slot = above_before + max(0, at_before - skip), tie = at_before;
  for (int i = lo; i < hi; ++i) {
    const K k = key(i);
    if (k > t || (k == t && tie++ >= skip)) emit(slot++, i);
  }
}

}  // namespace jenga::core::kernels
