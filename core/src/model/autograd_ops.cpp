#include "model/autograd_ops.hpp"

#include "model/activation_offload.hpp"
#include "model/precision.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

#ifdef JENGA_CUDA_KERNELS
#include "kernels/rms_norm.cuh"
#include "kernels/torch_bridge.hpp"
#endif

namespace jenga::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct FrozenLinearFn : public torch::autograd::Function<FrozenLinearFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& W) {
    ctx->saved_data["W"] = W;
    return at::linear(x, W);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto W = ctx->saved_data["W"].toTensor();
    return {at::matmul(grads[0], W), at::Tensor()};
  }
};

#ifdef JENGA_CUDA_KERNELS
// The fused kernels take contiguous rows of fp32/fp16/bf16 with a weight of the same dtype.
bool fused_rms_norm_applies(const at::Tensor& x, const at::Tensor& w) {
  const auto t = x.scalar_type();
  return x.is_cuda() && (t == at::kBFloat16 || t == at::kHalf || t == at::kFloat) && w.scalar_type() == t && w.is_contiguous() &&
         x.numel() > 0;
}
#endif

struct RmsNormFn : public torch::autograd::Function<RmsNormFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, double eps) {
#ifdef JENGA_CUDA_KERNELS
    if (fused_rms_norm_applies(x, w)) {
      const auto xc = x.contiguous();
      const int64_t H = xc.size(-1), rows = xc.numel() / H;
      auto y = at::empty_like(xc);
      auto rshape = xc.sizes().vec();
      rshape.back() = 1;
      auto rstd = at::empty(rshape, xc.options().dtype(at::kFloat));
      kernels::check_cuda(kernels::rms_norm_forward(xc.data_ptr(), w.data_ptr(), kernels::element_type(xc, "rms_norm"), rows, H, eps,
                                                    y.data_ptr(), rstd.data_ptr<float>(), kernels::current_stream()),
                          "rms_norm forward");
      ctx->save_for_backward({xc, rstd});
      ctx->saved_data["w"] = w;
      return y;
    }
#endif
    const auto xf = x.to(wide_type(x.scalar_type()));
    const auto rstd = at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    ctx->save_for_backward({x, rstd});
    ctx->saved_data["w"] = w;
    return (xf * rstd).to(x.scalar_type()) * w;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& rstd = saved[1];
    const auto w = ctx->saved_data["w"].toTensor();
#ifdef JENGA_CUDA_KERNELS
    if (fused_rms_norm_applies(x, w)) {
      const auto dy = grads[0].contiguous();
      auto dx = at::empty_like(x);
      const int64_t H = x.size(-1), rows = x.numel() / H;
      kernels::check_cuda(kernels::rms_norm_backward(dy.data_ptr(), x.data_ptr(), w.data_ptr(), rstd.data_ptr<float>(),
                                                     kernels::element_type(x, "rms_norm"), rows, H, dx.data_ptr(),
                                                     kernels::current_stream()),
                          "rms_norm backward");
      return {dx, at::Tensor(), at::Tensor()};
    }
#endif
    const auto wide = wide_type(x.scalar_type());
    // dx = rstd * (gn - n * mean(gn * n)), n = x * rstd, gn = dy * w; in place so that at most
    // three [S, H] wide temporaries live at once.
    auto n = x * rstd;  // promotes to rstd's wide type; never aliases the saved x
    auto gn = (grads[0] * w).to(wide);
    const auto dot = (gn * n).mean(-1, /*keepdim=*/true);
    gn.sub_(n.mul_(dot)).mul_(rstd);
    return {gn.to(x.scalar_type()), at::Tensor(), at::Tensor()};
  }
};

struct SwiGluFn : public torch::autograd::Function<SwiGluFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& u) {
    ctx->save_for_backward({g, u});
    return at::silu(g) * u;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // In the activations' own dtype, as autograd would do it for silu(g) * u: two [S, I]
    // temporaries at most, where an fp32 formula needs six and triples the memory traffic.
    const auto saved = ctx->get_saved_variables();
    const auto& g = saved[0];
    const auto& u = saved[1];
    const auto& dy = grads[0];
    auto du = at::silu(g).mul_(dy);
    auto dg = at::silu_backward(dy * u, g);
    return {dg, du};
  }
};

struct CheckpointFn : public torch::autograd::Function<CheckpointFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, c10::IValue kept_iv, int64_t owner,
                            int64_t layer, int64_t offload) {
    const at::Tensor kept = kept_iv.isTensor() ? kept_iv.toTensor() : at::Tensor();
    // The owner and offload pointers travel as integers: saved_data holds IValues, and the model
    // that owns them outlives every backward pass it starts.
    ctx->saved_data["owner"] = owner;
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["offload"] = offload;
    ctx->saved_data["kept"] = kept.defined() ? c10::IValue(kept) : c10::IValue();
    if (offload)
      reinterpret_cast<ActivationOffload*>(offload)->store(layer, x);
    else
      ctx->save_for_backward({x});
    return reinterpret_cast<RecomputableLayers*>(owner)->run_layer(layer, x, kept);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* owner = reinterpret_cast<RecomputableLayers*>(ctx->saved_data["owner"].toInt());
    const int64_t layer = ctx->saved_data["layer"].toInt();
    auto* offload = reinterpret_cast<ActivationOffload*>(ctx->saved_data["offload"].toInt());
    const auto kept_iv = ctx->saved_data["kept"];
    const at::Tensor kept = kept_iv.isTensor() ? kept_iv.toTensor() : at::Tensor();
    at::Tensor x;
    if (offload) {
      x = offload->load(layer).requires_grad_(true);
      // Backward visits layers last to first: bring the next one in while this one recomputes.
      if (layer > 0) offload->prefetch(layer - 1);
    } else {
      x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    }
    at::Tensor out;
    {
      at::AutoGradMode enable(true);
      out = owner->run_layer(layer, x, kept);
    }
    torch::autograd::backward({out}, {grads[0]});
    return {x.grad(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

torch::Tensor frozen_linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b) {
  // Trained weights (pre-training) need x saved for dW: plain autograd does exactly that.
  if (W.requires_grad()) return b.defined() ? at::linear(x, W, b) : at::linear(x, W);
  // Undefined tensors cannot cross Function::apply on LibTorch 1.13, and a bias add saves nothing
  // for backward, so the bias stays outside the custom function.
  auto y = FrozenLinearFn::apply(x, W);
  return b.defined() ? y + b : y;
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  if (w.requires_grad()) {
    // A trained scale (pre-training) needs its gradient: the same formula, through autograd.
    const auto xf = x.to(wide_type(x.scalar_type()));
    return (xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps)).to(x.scalar_type()) * w;
  }
  return RmsNormFn::apply(x, w, eps);
}

torch::Tensor swiglu(const torch::Tensor& g, const torch::Tensor& u) { return SwiGluFn::apply(g, u); }

torch::Tensor checkpointed_layer(RecomputableLayers* owner, int64_t layer, const torch::Tensor& x,
                                 const torch::Tensor& kept, ActivationOffload* offload) {
  // `kept` is an index list (no gradient) and may be undefined, so it travels as an IValue.
  return CheckpointFn::apply(x, kept.defined() ? c10::IValue(kept) : c10::IValue(), reinterpret_cast<int64_t>(owner), layer,
                             reinterpret_cast<int64_t>(offload));
}

}  // namespace jenga::core
