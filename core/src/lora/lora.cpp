#include "jenga/core/lora/lora.hpp"

#include "jenga/core/error.hpp"
#include "model/autograd_ops.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace jenga::core {

bool LoraConfig::targets_projection(const std::string& short_name) const {
  return std::find(targets.begin(), targets.end(), short_name) != targets.end();
}

torch::Tensor lora_linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b,
                          const LoraPair& lora, double scale) {
  // The frozen product saves no activation (only W is needed for dL/dx); the adapter's path
  // saves x and the rank-r intermediate. Adapters keep fp32 masters and compute in x's dtype.
  auto y = frozen_linear(x, W, b);
  if (!lora.defined()) return y;
  const auto a = at::linear(x, lora.A.to(x.scalar_type()));
  return at::add(y, at::linear(a, lora.B.to(x.scalar_type())), scale);
}

LoraPair make_lora_pair(int64_t in, int64_t out, int64_t rank, torch::Device device, torch::Generator gen,
                        torch::ScalarType master_dtype) {
  if (rank <= 0 || in <= 0 || out <= 0) throw Error(msg("LoRA: bad shape in=", in, " out=", out, " rank=", rank));
  LoraPair p;
  // PEFT: A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); B = 0.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  p.A = at::empty({rank, in}, at::TensorOptions().dtype(master_dtype)).uniform_(-bound, bound, gen).to(device);
  p.B = at::zeros({out, rank}, at::TensorOptions().dtype(master_dtype).device(device));
  p.A.set_requires_grad(true);
  p.B.set_requires_grad(true);
  return p;
}

}  // namespace jenga::core
