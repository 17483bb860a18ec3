// Checks and shape helpers the attention-sparsity methods (minference, parallel_context, quest,
// spotlight) share. Internal to core/src/attention/methods.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <cstdint>

namespace jenga::core::methods_detail {

// q [Sq, Hq, D] and k [S, Hkv, D] token-major with Sq <= S and Hq a multiple of Hkv, as
// block_sparse_attention takes them; `who` names the caller in the message.
inline void check_qk(const at::Tensor& q, const at::Tensor& k, const char* who) {
  if (!q.defined() || !k.defined() || q.dim() != 3 || k.dim() != 3 || q.size(2) != k.size(2) || k.size(1) == 0 ||
      q.size(1) % k.size(1) != 0 || q.size(0) > k.size(0) || q.size(0) == 0 || !at::isFloatingType(q.scalar_type()) ||
      !at::isFloatingType(k.scalar_type()))
    throw Error(msg(who, ": expected float q [Sq, Hq, D] and k [S, Hkv, D] with Sq <= S and Hq a multiple of Hkv, got q ",
                    q.defined() ? q.sizes() : at::IntArrayRef{}, " and k ", k.defined() ? k.sizes() : at::IntArrayRef{}));
}

// [S, Hkv, D] -> float [Hq, S, D]: query head h reads key head h / (Hq / Hkv) (grouped-query attention).
inline at::Tensor keys_per_query_head(const at::Tensor& k, int64_t q_heads) {
  const auto kk = k.to(at::kFloat).permute({1, 0, 2});
  return q_heads == k.size(1) ? kk.contiguous() : kk.repeat_interleave(q_heads / k.size(1), 0).contiguous();
}

inline LayoutShape make_shape(int64_t heads, int64_t seq_q, int64_t seq_k, int64_t block_q, int64_t block_k) {
  LayoutShape s;
  s.heads = heads;
  s.seq_q = seq_q;
  s.seq_k = seq_k;
  s.block_q = block_q;
  s.block_k = block_k;
  s.check();
  return s;
}

// A decode query [Hq, D] or [1, Hq, D] -> [Hq, D] (Quest and Spotlight take either).
inline at::Tensor decode_query(const at::Tensor& q, const char* who) {
  if (q.dim() == 3 && q.size(0) == 1) return q[0];
  if (q.dim() == 2) return q;
  throw Error(msg(who, ": expected a decode query [Hq, D] or [1, Hq, D], got ", q.sizes()));
}

inline at::TensorOptions longs(c10::Device d = c10::kCPU) { return at::TensorOptions().dtype(at::kLong).device(d); }

}  // namespace jenga::core::methods_detail
