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

// Causal/non-causal attention on [B, Hq, S, D] queries and [B, Hkv, S, D] keys/values
// (Hq a multiple of Hkv: grouped-query attention). 2.x: the fused SDPA (flash / cuDNN /
// memory-efficient on GPU) with native GQA. 1.13 has no public SDPA: the exact math path with
// fp32 softmax, which is what SDPA's math backend computes, on repeated key/value heads.
inline torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k_in,
                                                  const torch::Tensor& v_in, bool causal,
                                                  double scale) {
  const bool gqa = q.size(-3) != k_in.size(-3);
#if JENGA_TORCH_AT_LEAST(2, 5)
  return at::scaled_dot_product_attention(q, k_in, v_in, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal, scale,
                                          /*enable_gqa=*/gqa);
#else
  const int64_t rep = q.size(-3) / k_in.size(-3);
  const auto k = gqa ? k_in.repeat_interleave(rep, -3) : k_in;
  const auto v = gqa ? v_in.repeat_interleave(rep, -3) : v_in;
  // fp32 for half types (as SDPA's math backend), fp64 kept for gradient checks in double.
  const auto wide = q.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto scores = torch::matmul(q.to(wide), k.to(wide).transpose(-2, -1)) * scale;
  if (causal) {
    const auto sq = q.size(-2), sk = k.size(-2);
    auto mask = torch::ones({sq, sk}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                    .triu(sk - sq + 1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  return torch::matmul(torch::softmax(scores, -1), v.to(wide)).to(q.scalar_type());
#endif
}

}  // namespace jenga::core::compat
