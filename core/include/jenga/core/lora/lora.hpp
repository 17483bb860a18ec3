// LoRA: a frozen linear W plus a trainable low-rank update, y = x Wᵀ (+ b) + s · (x Aᵀ) Bᵀ,
// s = alpha / rank. A starts Kaiming-uniform, B at zero (PEFT's default), so a fresh adapter
// leaves the model unchanged. Adapters save/load in PEFT's layout.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace jenga::core {

struct LoraConfig {
  int64_t rank = 8;
  double alpha = 16;
  // Projections that get adapters, by short name: q k v o (attention), gate up down (Llama MLP),
  // fc1 fc2 (OPT MLP). The paper's setting: q, k, v, o.
  std::vector<std::string> targets = {"q", "k", "v", "o"};
  double scale() const { return alpha / static_cast<double>(rank); }
  bool targets_projection(const std::string& short_name) const;
};

struct LoraPair {
  torch::Tensor A;  // [rank, in]
  torch::Tensor B;  // [out, rank]
  bool defined() const { return A.defined(); }
};

// y = x Wᵀ + b + s (x Aᵀ) Bᵀ; W, b frozen (b may be undefined); lora may be empty.
torch::Tensor lora_linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b,
                          const LoraPair& lora, double scale);

// Creates an adapter for a projection of shape [out, in]; master weights in `master_dtype`
// (fp32, or fp64 when the whole model is fp64 for gradient checks) on `device`.
LoraPair make_lora_pair(int64_t in, int64_t out, int64_t rank, torch::Device device, torch::Generator gen,
                        torch::ScalarType master_dtype = torch::kFloat);

}  // namespace jenga::core
