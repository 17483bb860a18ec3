// A thread block's exclusive scan of two counts at once, for the selection kernels that turn each
// thread's counts over its contiguous run into where its kept items go (hamming_select,
// quest_select). WARPS warps (at most 32); warp_sums: shared scratch of WARPS entries.
#pragma once

#include <cuda_runtime.h>

namespace jenga::core::kernels {

template <int WARPS>
__device__ __forceinline__ void block_scan2(int a, int b, int& a_before, int& b_before, int2* warp_sums) {
  static_assert(WARPS >= 1 && WARPS <= 32, "one warp scans the warp totals");
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int sa = a, sb = b;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int ta = __shfl_up_sync(0xffffffffu, sa, o), tb = __shfl_up_sync(0xffffffffu, sb, o);
    if (lane >= o) {
      sa += ta;
      sb += tb;
    }
  }
  if (lane == 31) warp_sums[warp] = make_int2(sa, sb);
  __syncthreads();
  if (warp == 0) {
    const int2 v = lane < WARPS ? warp_sums[lane] : make_int2(0, 0);
    int xa = v.x, xb = v.y;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int ta = __shfl_up_sync(0xffffffffu, xa, o), tb = __shfl_up_sync(0xffffffffu, xb, o);
      if (lane >= o) {
        xa += ta;
        xb += tb;
      }
    }
    if (lane < WARPS) warp_sums[lane] = make_int2(xa - v.x, xb - v.y);  // exclusive, per warp
  }
  __syncthreads();
  a_before = warp_sums[warp].x + sa - a;
  b_before = warp_sums[warp].y + sb - b;
}

}  // namespace jenga::core::kernels
