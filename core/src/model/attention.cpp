#include "model/attention.hpp"

#include "jenga/core/compat.hpp"
#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <algorithm>

namespace jenga::core {
namespace {

// Dense causal attention, token-major: [S, H, D] -> [S, Hq, D].
at::Tensor dense(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  auto o = compat::scaled_dot_product_attention(q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0),
                                                v.transpose(0, 1).unsqueeze(0), /*causal=*/true, scale);
  return o.squeeze(0).transpose(0, 1);
}

// [S, H, D] -> [G, H, g, D] with G = ceil(S/g), zero-padded at the end.
at::Tensor to_groups(const at::Tensor& t, int64_t g) {
  const int64_t S = t.size(0), G = (S + g - 1) / g, pad = G * g - S;
  const auto p = pad > 0 ? at::cat({t, at::zeros({pad, t.size(1), t.size(2)}, t.options())}, 0) : t;
  return p.view({G, g, t.size(1), t.size(2)}).transpose(1, 2);
}

// Causal attention within consecutive groups of g tokens: [S, H, D] -> [S, Hq, D].
at::Tensor grouped(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale, int64_t g) {
  const int64_t S = q.size(0);
  if (S <= g) return dense(q, k, v, scale);
  auto o = compat::scaled_dot_product_attention(to_groups(q, g), to_groups(k, g), to_groups(v, g), /*causal=*/true, scale);
  return o.transpose(1, 2).reshape({-1, q.size(1), q.size(2)}).narrow(0, 0, S);
}

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                               int64_t groups) {
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || q.size(0) != k.size(0) || k.sizes() != v.sizes() ||
      q.size(2) != k.size(2) || q.size(1) % k.size(1) != 0)
    throw Error(msg("causal_attention: expected q [S, Hq, D], k/v [S, Hkv, D] with Hkv | Hq; got ", q.sizes(), ", ",
                    k.sizes(), ", ", v.sizes()));
  const int64_t S = q.size(0), Hkv = k.size(1);
  const int64_t g = groups > 1 ? std::max<int64_t>(2, (S + groups - 1) / groups) : S;
  if (g >= S) return dense(q, k, v, scale);
  if (Hkv % 2 != 0)
    throw Error(msg("causal_attention: shifted groups need an even number of key/value heads, got ", Hkv));
  const auto half = [](const at::Tensor& t, int which) { return t.narrow(1, which * t.size(1) / 2, t.size(1) / 2); };
  // First half of the heads: groups [0, g), [g, 2g), ...
  const auto a = grouped(half(q, 0), half(k, 0), half(v, 0), scale, g);
  // Second half: groups [0, g/2), [g/2, g/2 + g), ...
  const int64_t shift = g / 2;
  const auto qb = half(q, 1), kb = half(k, 1), vb = half(v, 1);
  const auto head = dense(qb.narrow(0, 0, shift), kb.narrow(0, 0, shift), vb.narrow(0, 0, shift), scale);
  const auto rest = grouped(qb.narrow(0, shift, S - shift), kb.narrow(0, shift, S - shift), vb.narrow(0, shift, S - shift), scale, g);
  return at::cat({a, at::cat({head, rest}, 0)}, 1);
}

torch::Tensor packed_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      double scale, int64_t segment) {
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || q.size(0) != k.size(0) || k.sizes() != v.sizes() ||
      q.size(2) != k.size(2) || q.size(1) % k.size(1) != 0 || segment <= 0 || q.size(0) % segment != 0)
    throw Error(msg("packed_causal_attention: expected q [S, Hq, D], k/v [S, Hkv, D] with Hkv | Hq and S a multiple of ",
                    segment, "; got ", q.sizes(), ", ", k.sizes(), ", ", v.sizes()));
  return grouped(q, k, v, scale, segment);
}

}  // namespace jenga::core
