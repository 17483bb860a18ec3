// quest_select.cuh: one thread block per query head. The scores become order-preserving 32-bit
// keys (the newest page forced to the largest); a radix select of four 8-bit passes (per-warp
// histograms) finds the pages_kept-th largest key exactly; keep_in_order (ordered_select.cuh)
// places the kept pages in order (ties at the threshold go to later pages), and each kept page
// writes its page_size keys.
#include "attention/quest_select.cuh"

#include "attention/ordered_select.cuh"

namespace jenga::core::kernels {
namespace {

constexpr int kThreadsQ = 1024;
constexpr int kWarpsQ = kThreadsQ / 32;

// Larger float -> larger unsigned key.
__device__ __forceinline__ uint32_t order_key(float x) {
  const uint32_t u = __float_as_uint(x);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ uint32_t page_key(const QuestSelect& p, const float* row, int i) {
  return i == p.pages - 1 ? 0xffffffffu : order_key(row[i]);
}

__global__ void __launch_bounds__(kThreadsQ) quest_select_kernel(QuestSelect p, int64_t row_len, int64_t* out) {
  __shared__ int hist[kWarpsQ][256];
  __shared__ int2 warp_sums[kWarpsQ];
  __shared__ uint32_t s_prefix;
  __shared__ int s_need;
  const int tid = threadIdx.x, warp = tid >> 5, h = blockIdx.x;
  const float* row = p.scores + static_cast<int64_t>(h) * p.pages;

  // Radix select, most significant byte first: the threshold's bits so far (prefix) and how many
  // of the kept pages lie at or below it (need); keys above the prefix are kept already.
  uint32_t prefix = 0;
  int need = p.pages_kept;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = tid; i < kWarpsQ * 256; i += kThreadsQ) (&hist[0][0])[i] = 0;
    __syncthreads();
    const uint32_t high_mask = shift == 24 ? 0u : ~((1u << (shift + 8)) - 1u);
    for (int i = tid; i < p.pages; i += kThreadsQ) {
      const uint32_t key = page_key(p, row, i);
      if ((key & high_mask) == prefix) atomicAdd(&hist[warp][(key >> shift) & 0xffu], 1);
    }
    sum_warp_histograms(hist, 256);
    if (tid == 0) {
      int above = 0, b = 255;
      for (; b > 0 && above + hist[0][b] < need; --b) above += hist[0][b];
      s_prefix = prefix | (static_cast<uint32_t>(b) << shift);
      s_need = need - above;
    }
    __syncthreads();
    prefix = s_prefix;
    need = s_need;
    __syncthreads();
  }
  const uint32_t t = prefix;  // the kept pages: every key above t, and the last `need` at t

  int64_t* dst = out + static_cast<int64_t>(h) * row_len;
  keep_in_order<kWarpsQ>(
      p.pages, t, need, [&](int i) { return page_key(p, row, i); },
      [&](int slot, int i) {
        const int64_t first = static_cast<int64_t>(slot) * p.page_size;
        for (int j = 0; j < p.page_size && first + j < row_len; ++j) dst[first + j] = static_cast<int64_t>(i) * p.page_size + j;
      },
      warp_sums);
}

}  // namespace

int64_t quest_keys_per_row(const QuestSelect& p) {
  return static_cast<int64_t>(p.pages_kept) * p.page_size - (static_cast<int64_t>(p.pages) * p.page_size - p.seq_k);
}

cudaError_t quest_select_keys(const QuestSelect& p, int64_t* out, cudaStream_t stream) {
  if (p.scores == nullptr || out == nullptr || p.q_heads < 1 || p.page_size < 1 || p.seq_k < 1 ||
      p.pages != (p.seq_k + p.page_size - 1) / p.page_size || p.pages_kept < 1 || p.pages_kept > p.pages)
    return cudaErrorInvalidValue;
  quest_select_kernel<<<p.q_heads, kThreadsQ, 0, stream>>>(p, quest_keys_per_row(p), out);
  return cudaGetLastError();
}

}  // namespace jenga::core::kernels
