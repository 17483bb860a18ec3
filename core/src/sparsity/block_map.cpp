#include "jenga/core/sparsity/block_map.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#ifdef JENGA_CUDA_KERNELS
#include "kernels/block_map.cuh"
#include "kernels/torch_bridge.hpp"
#endif

namespace jenga::core {
namespace {

void check(const at::Tensor& q, const at::Tensor& k, int64_t block) {
  if (q.dim() != 3 || k.dim() != 3 || q.size(0) != k.size(0) || q.size(2) != k.size(2) || k.size(1) == 0 ||
      q.size(1) % k.size(1) != 0)
    throw Error(msg("block map: expected q [S, Hq, D] and k [S, Hkv, D] with Hq a multiple of Hkv; got ", q.sizes(), " and ", k.sizes()));
  if (block <= 0) throw Error(msg("block map: block must be positive, got ", block));
  if (q.scalar_type() != k.scalar_type()) throw Error(msg("block map: q is ", q.scalar_type(), ", k is ", k.scalar_type()));
}

}  // namespace

torch::Tensor exact_block_map_reference(const torch::Tensor& q, const torch::Tensor& k, int64_t block) {
  check(q, k, block);
  const int64_t S = q.size(0), Hq = q.size(1), group = Hq / k.size(1);
  const int64_t nb = (S + block - 1) / block, padded = nb * block;
  const auto wide = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto out = at::zeros({nb, nb}, q.options().dtype(wide));
  const auto causal = at::ones({S, S}, q.options().dtype(at::kBool)).tril();
  for (int64_t h = 0; h < Hq; ++h) {
    const auto qh = q.select(1, h).to(wide);
    const auto kh = k.select(1, h / group).to(wide);
    auto s = at::relu(at::matmul(qh, kh.t())).masked_fill(causal.logical_not(), 0.0);
    s = at::constant_pad_nd(s, {0, padded - S, 0, padded - S}, 0.0);
    out += s.view({nb, block, nb, block}).amax({1, 3});
  }
  return out.to(at::kFloat);
}

torch::Tensor exact_block_map(const torch::Tensor& q, const torch::Tensor& k, int64_t block) {
  check(q, k, block);
#ifdef JENGA_CUDA_KERNELS
  if (q.is_cuda() && q.scalar_type() != at::kDouble) {
    if (block != 64) throw Error(msg("block map: the CUDA kernel works on 64-token blocks, got ", block));
    const auto qc = q.stride(2) == 1 && q.stride(1) == q.size(2) ? q : q.contiguous();
    const auto kc = k.stride(2) == 1 && k.stride(1) == k.size(2) ? k : k.contiguous();
    const int64_t nb = (q.size(0) + block - 1) / block;
    auto out = at::empty({nb, nb}, q.options().dtype(at::kFloat));
    kernels::check_cuda(kernels::block_attention_map(qc.data_ptr(), kc.data_ptr(), kernels::element_type(q, "block map"), q.size(0),
                                                     q.size(1), k.size(1), q.size(2), qc.stride(0), kc.stride(0), block,
                                                     out.data_ptr<float>(), kernels::current_stream()),
                        "block map: block_attention_map");
    return out;
  }
#endif
  return exact_block_map_reference(q, k, block);
}

}  // namespace jenga::core
