#include "model/rope.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace jenga::core {

torch::Tensor rope_inv_freq(const ModelConfig& cfg, double extra_linear_factor) {
  const int64_t dim = cfg.head_dim;
  auto exponents = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / static_cast<double>(dim);
  auto inv_freq = 1.0 / at::pow(cfg.rope_theta, exponents);
  const auto& rs = cfg.rope_scaling;
  if (rs.type == "linear") {
    inv_freq = inv_freq / rs.factor;
  } else if (rs.type == "llama3") {
    const double old_ctx = static_cast<double>(rs.original_max_position_embeddings);
    const double low_wavelen = old_ctx / rs.low_freq_factor;
    const double high_wavelen = old_ctx / rs.high_freq_factor;
    const auto wavelen = 2.0 * M_PI / inv_freq;
    auto scaled = at::where(wavelen > low_wavelen, inv_freq / rs.factor, inv_freq);
    const auto smooth = (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
    const auto smoothed = (1.0 - smooth) * scaled / rs.factor + smooth * scaled;
    const auto medium = at::logical_and(wavelen >= high_wavelen, wavelen <= low_wavelen);
    inv_freq = at::where(medium, smoothed, scaled);
  } else if (rs.type != "none" && rs.type != "default") {
    throw Error(msg("rope scaling type '", rs.type, "' is not supported for training"));
  }
  if (extra_linear_factor < 1.0) throw Error(msg("rope_linear_factor must be >= 1, got ", extra_linear_factor));
  if (extra_linear_factor != 1.0) inv_freq = inv_freq / extra_linear_factor;
  return inv_freq.contiguous();
}

RopeTables rope_tables(const torch::Tensor& inv_freq, const torch::Tensor& positions, torch::ScalarType dtype) {
  const auto freqs = at::outer(positions.to(at::kFloat), inv_freq.to(positions.device()));  // [S, dim/2]
  const auto emb = at::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& t) {
  const int64_t half = x.size(-1) / 2;
  const auto x1 = x.narrow(-1, 0, half);
  const auto x2 = x.narrow(-1, half, half);
  const auto rotated = at::cat({-x2, x1}, -1);
  const auto cos = t.cos.unsqueeze(1), sin = t.sin.unsqueeze(1);  // broadcast over heads
  return x * cos + rotated * sin;
}

}  // namespace jenga::core
