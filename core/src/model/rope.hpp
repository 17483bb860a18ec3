// Rotary position embedding as HF computes it: inv_freq in fp32 from the config's theta and
// scaling (linear: frequencies / factor; llama3: wavelength-banded smoothing), cos/sin of
// positions × inv_freq duplicated over both halves, applied as x·cos + rotate_half(x)·sin.
#pragma once

#include "jenga/core/model/config.hpp"

#include <torch/types.h>

namespace jenga::core {

// fp32 [head_dim / 2]. `extra_linear_factor` (≥1) stacks a linear context extension on top.
torch::Tensor rope_inv_freq(const ModelConfig& cfg, double extra_linear_factor);

struct RopeTables {
  torch::Tensor cos, sin;  // [S, head_dim] in the activation dtype
};

// Tables for the given positions (int64 [S]); positions need not be contiguous (eliminated
// tokens keep their original positions).
RopeTables rope_tables(const torch::Tensor& inv_freq, const torch::Tensor& positions, torch::ScalarType dtype);

// x: [S, heads, head_dim]; tables [S, head_dim].
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& t);

}  // namespace jenga::core
