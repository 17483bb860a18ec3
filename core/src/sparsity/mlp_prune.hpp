// MLP channel pruning for backward (Jenga's "shadowy activation"): the forward pass is exact;
// only the top (1 - prune_ratio) intermediate channels, ranked over all tokens, are saved, and
// dL/dx flows through those channels alone. An approximation of the gradient (frozen MLP
// weights, no adapters on them); its effect on the loss is measured, not assumed.
#pragma once

#include <torch/types.h>

namespace jenga::core {

// Llama SwiGLU MLP: y = (silu(x Wgᵀ) * (x Wuᵀ)) Wdᵀ. Channel score: ‖silu(g)[:, c]‖₂ + ‖u[:, c]‖₂.
torch::Tensor pruned_swiglu_mlp(const torch::Tensor& x, const torch::Tensor& Wg, const torch::Tensor& Wu,
                                const torch::Tensor& Wd, double prune_ratio);

// OPT ReLU MLP: y = relu(x W1ᵀ + b1) W2ᵀ + b2. Channel score: ‖relu(f)[:, c]‖₂.
torch::Tensor pruned_relu_mlp(const torch::Tensor& x, const torch::Tensor& W1, const torch::Tensor& b1,
                              const torch::Tensor& W2, const torch::Tensor& b2, double prune_ratio);

// The kept channel indices (ascending) for a score vector and ratio; exposed for tests.
torch::Tensor top_channels(const torch::Tensor& score, double prune_ratio);

}  // namespace jenga::core
