#include "sparsity/kept_rows.hpp"

#include <ATen/ATen.h>

#ifdef JENGA_CUDA_KERNELS
#include "kernels/block_rows.cuh"
#include "kernels/torch_bridge.hpp"

#include <torch/csrc/autograd/custom_function.h>
#endif

namespace jenga::core {
namespace {

#ifdef JENGA_CUDA_KERNELS
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool kernels_apply(const at::Tensor& x, const KeptRows& k) {
  const auto t = x.scalar_type();
  return k.blocks.defined() && x.is_cuda() && x.dim() == 2 && (t == at::kBFloat16 || t == at::kHalf || t == at::kFloat);
}

at::Tensor gather_rows(const at::Tensor& x, const at::Tensor& blocks, int64_t block, int64_t rows) {
  const auto xc = x.contiguous();
  auto out = at::empty({rows, xc.size(1)}, xc.options());
  kernels::check_cuda(kernels::block_gather_rows(xc.data_ptr(), blocks.data_ptr<int64_t>(), kernels::element_type(xc, "gather_kept_rows"),
                                                 rows, xc.size(1), block, out.data_ptr(), kernels::current_stream()),
                      "block_gather_rows");
  return out;
}

struct GatherKeptFn : public torch::autograd::Function<GatherKeptFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& blocks, const at::Tensor& slot, int64_t block,
                            int64_t rows) {
    ctx->save_for_backward({slot});
    ctx->saved_data["block"] = block;
    ctx->saved_data["S"] = x.size(0);
    return gather_rows(x, blocks, block, rows);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto slot = ctx->get_saved_variables()[0];
    const int64_t block = ctx->saved_data["block"].toInt(), S = ctx->saved_data["S"].toInt();
    const auto g = grads[0].contiguous();
    auto dx = at::empty({S, g.size(1)}, g.options());
    kernels::check_cuda(kernels::block_expand_rows(g.data_ptr(), slot.data_ptr<int32_t>(), kernels::element_type(g, "gather_kept_rows"), S,
                                                   g.size(1), block, dx.data_ptr(), kernels::current_stream()),
                        "block_expand_rows");
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct AddKeptFn : public torch::autograd::Function<AddKeptFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& upd, const at::Tensor& blocks, const at::Tensor& slot,
                            int64_t block) {
    ctx->save_for_backward({blocks});
    ctx->saved_data["block"] = block;
    ctx->saved_data["rows"] = upd.size(0);
    const auto xc = x.contiguous();
    const auto uc = upd.contiguous();
    auto h = at::empty_like(xc);
    kernels::check_cuda(kernels::block_residual_add(xc.data_ptr(), uc.data_ptr(), slot.data_ptr<int32_t>(),
                                                    kernels::element_type(xc, "add_at_kept_rows"), xc.size(0), xc.size(1), block,
                                                    h.data_ptr(), kernels::current_stream()),
                        "block_residual_add");
    return h;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto blocks = ctx->get_saved_variables()[0];
    const int64_t block = ctx->saved_data["block"].toInt(), rows = ctx->saved_data["rows"].toInt();
    return {grads[0], gather_rows(grads[0], blocks, block, rows), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};
#endif

}  // namespace

KeptRows kept_rows(const torch::Tensor& kept, int64_t block, int64_t S) {
  KeptRows k;
  k.kept = kept;
  k.block = block;
  k.S = S;
#ifdef JENGA_CUDA_KERNELS
  if (block > 0 && kept.is_cuda() && kept.numel() > 0) {
    const auto starts = at::arange(0, kept.size(0), block, kept.options());
    k.blocks = kept.index_select(0, starts).div(block, "floor").contiguous();
    const int64_t nb = (S + block - 1) / block;
    k.slot = at::full({nb}, -1, kept.options().dtype(at::kInt));
    k.slot.scatter_(0, k.blocks, at::arange(k.blocks.size(0), kept.options().dtype(at::kInt)));
  }
#endif
  return k;
}

torch::Tensor gather_kept_rows(const torch::Tensor& x, const KeptRows& k) {
#ifdef JENGA_CUDA_KERNELS
  if (kernels_apply(x, k)) return GatherKeptFn::apply(x, k.blocks, k.slot, k.block, k.kept.size(0));
#endif
  return x.index_select(0, k.kept);
}

torch::Tensor add_at_kept_rows(const torch::Tensor& x, const KeptRows& k, const torch::Tensor& upd) {
#ifdef JENGA_CUDA_KERNELS
  if (kernels_apply(x, k) && upd.scalar_type() == x.scalar_type()) return AddKeptFn::apply(x, upd, k.blocks, k.slot, k.block);
#endif
  return x.index_add(0, k.kept, upd);
}

}  // namespace jenga::core
