// Hides the LibTorch differences we meet between Debian's 1.13 (CPU, our CI) and 2.x (GPU machine).
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#define JENGA_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace jenga::core::compat {

// "1.13.0" / "2.11.0": the LibTorch the binary was compiled against.
inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// Causal/non-causal attention on [B, H, S, D] tensors. 2.x: the fused SDPA (flash / cuDNN /
// memory-efficient on GPU). 1.13 has no public SDPA: the exact math path, in the input dtype
// with fp32 softmax, which is what SDPA's math backend computes.
inline torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                                  const torch::Tensor& v, bool causal,
                                                  double scale) {
#if JENGA_TORCH_AT_LEAST(2, 1)
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal, scale);
#else
  auto scores = torch::matmul(q.to(torch::kFloat), k.to(torch::kFloat).transpose(-2, -1)) * scale;
  if (causal) {
    const auto sq = q.size(-2), sk = k.size(-2);
    auto mask = torch::ones({sq, sk}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                    .triu(sk - sq + 1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  return torch::matmul(torch::softmax(scores, -1), v.to(torch::kFloat)).to(q.scalar_type());
#endif
}

}  // namespace jenga::core::compat
