#include "sparsity/mlp_prune.hpp"

#include "jenga/core/error.hpp"
#include "model/precision.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

namespace jenga::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Accumulated in the wide type without a converted copy of the [S, I] activation.
at::Tensor channel_norms(const at::Tensor& t) {
  return at::linalg_vector_norm(t, 2, {0}, /*keepdim=*/false, wide_type(t.scalar_type()));
}

struct PrunedSwiGluFn : public torch::autograd::Function<PrunedSwiGluFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& Wg, const at::Tensor& Wu,
                            const at::Tensor& Wd, double ratio) {
    const auto g = at::linear(x, Wg);
    const auto u = at::linear(x, Wu);
    const auto sg = at::silu(g);
    const auto kept = top_channels(channel_norms(sg) + channel_norms(u), ratio);
    ctx->save_for_backward({g.index_select(1, kept), u.index_select(1, kept), kept});
    ctx->saved_data["Wg"] = Wg;
    ctx->saved_data["Wu"] = Wu;
    ctx->saved_data["Wd"] = Wd;
    return at::linear(sg.mul_(u), Wd);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& g = saved[0];
    const auto& u = saved[1];
    const auto& kept = saved[2];
    const auto Wg = ctx->saved_data["Wg"].toTensor(), Wu = ctx->saved_data["Wu"].toTensor(), Wd = ctx->saved_data["Wd"].toTensor();
    const auto da = at::matmul(grads[0], Wd.index_select(1, kept));  // [S, kept]
    const auto du = at::silu(g).mul_(da);
    const auto dg = at::silu_backward(da * u, g);
    auto dx = at::matmul(dg, Wg.index_select(0, kept));
    dx.addmm_(du, Wu.index_select(0, kept));
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct PrunedReluFn : public torch::autograd::Function<PrunedReluFn> {
  // Biases travel as IValues: undefined tensors cannot cross Function::apply on LibTorch 1.13.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& W1, c10::IValue b1,
                            const at::Tensor& W2, c10::IValue b2, double ratio) {
    const auto bias = [](const c10::IValue& b) { return b.isTensor() ? b.toTensor() : at::Tensor(); };
    const auto f = at::relu(at::linear(x, W1, bias(b1)));
    const auto kept = top_channels(channel_norms(f), ratio);
    ctx->save_for_backward({f.index_select(1, kept), kept});
    ctx->saved_data["W1"] = W1;
    ctx->saved_data["W2"] = W2;
    return at::linear(f, W2, bias(b2));
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& f = saved[0];
    const auto& kept = saved[1];
    const auto W1 = ctx->saved_data["W1"].toTensor(), W2 = ctx->saved_data["W2"].toTensor();
    auto df = at::matmul(grads[0], W2.index_select(1, kept));
    df.mul_(f.gt(0));
    return {at::matmul(df, W1.index_select(0, kept)), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void check_ratio(double r) {
  if (!(r >= 0.0 && r < 1.0)) throw Error(msg("MLP prune ratio must be in [0, 1), got ", r));
}

// Pruning drops channels from dL/dx only; a trained weight would silently get no gradient.
void check_frozen(std::initializer_list<at::Tensor> weights) {
  for (const auto& W : weights)
    if (W.requires_grad()) throw Error(msg("MLP channel pruning needs frozen MLP weights; got a trained one of shape ", W.sizes()));
}

}  // namespace

torch::Tensor top_channels(const torch::Tensor& score, double prune_ratio) {
  check_ratio(prune_ratio);
  const int64_t n = score.size(0);
  const int64_t keep = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - prune_ratio) * static_cast<double>(n) - 1e-9)));
  return std::get<0>(std::get<1>(at::topk(score, keep, 0, /*largest=*/true, /*sorted=*/false)).sort());
}

torch::Tensor pruned_swiglu_mlp(const torch::Tensor& x, const torch::Tensor& Wg, const torch::Tensor& Wu,
                                const torch::Tensor& Wd, double prune_ratio) {
  check_ratio(prune_ratio);
  check_frozen({Wg, Wu, Wd});
  return PrunedSwiGluFn::apply(x, Wg, Wu, Wd, prune_ratio);
}

torch::Tensor pruned_relu_mlp(const torch::Tensor& x, const torch::Tensor& W1, const torch::Tensor& b1,
                              const torch::Tensor& W2, const torch::Tensor& b2, double prune_ratio) {
  check_ratio(prune_ratio);
  check_frozen({W1, W2});
  const auto iv = [](const at::Tensor& b) { return b.defined() ? c10::IValue(b) : c10::IValue(); };
  return PrunedReluFn::apply(x, W1, iv(b1), W2, iv(b2), prune_ratio);
}

}  // namespace jenga::core
