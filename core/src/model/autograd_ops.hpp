// Autograd functions that save less than the composite ops they replace. Under LoRA the base
// model is frozen, so they produce no weight gradients and save only what dL/dx needs; a weight
// that requires grad (pre-training) takes the plain autograd formula instead.
#pragma once

#include <torch/types.h>

namespace jenga::core {

// y = x Wᵀ + b with W, b frozen: saves W (already resident), not x.
torch::Tensor frozen_linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b);

// HF LlamaRMSNorm: (x·rsqrt(mean(x²)+eps)) in fp32, cast to x's dtype, times w.
// Saves x and the fp32 rstd [.., 1] only.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps);

// silu(g) · u, saving g and u (silu recomputed in backward, in fp32).
torch::Tensor swiglu(const torch::Tensor& g, const torch::Tensor& u);

class ActivationOffload;

// Layers whose activations are recomputed in backward (gradient checkpointing).
class RecomputableLayers {
 public:
  virtual ~RecomputableLayers() = default;
  // Must be a pure function of (layer, x, kept) and the weights/adapters.
  virtual torch::Tensor run_layer(int64_t layer, const torch::Tensor& x, const torch::Tensor& kept) = 0;
};

// Runs owner->run_layer(layer, x, kept) without keeping its activations; backward re-runs it
// with grad enabled and backpropagates through it (adapter grads accumulate into .grad).
// `owner` must outlive the backward pass. With `offload`, x waits in host memory instead of on
// the device (the offload must outlive the backward pass too).
torch::Tensor checkpointed_layer(RecomputableLayers* owner, int64_t layer, const torch::Tensor& x,
                                 const torch::Tensor& kept, ActivationOffload* offload = nullptr);

}  // namespace jenga::core
