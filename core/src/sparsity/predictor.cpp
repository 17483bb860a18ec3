#include "jenga/core/sparsity/predictor.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace jenga::core {
namespace {

// nn.Linear's default init: U(-1/sqrt(in), 1/sqrt(in)).
at::Tensor linear_init(int64_t out, int64_t in, at::Generator& gen) {
  const double b = 1.0 / std::sqrt(static_cast<double>(in));
  return at::empty({out, in}, at::kFloat).uniform_(-b, b, gen);
}

}  // namespace

BlockPredictor::BlockPredictor(const PredictorShape& s, torch::Device device, torch::ScalarType dtype, uint64_t seed) : shape_(s) {
  if (s.heads <= 0 || s.head_dim <= 0 || s.block <= 0 || s.q1 <= 0 || s.q2 <= 0 || s.k1 <= 0 || s.k2 <= 0)
    throw Error(msg("predictor: every width must be positive (heads ", s.heads, ", head_dim ", s.head_dim, ", q1 ", s.q1, ", q2 ", s.q2,
                    ", k1 ", s.k1, ", k2 ", s.k2, ")"));
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t in = s.block * s.head_dim;
  const int64_t widths[2][2] = {{s.q1, s.q2}, {s.k1, s.k2}};
  for (int b = 0; b < 2; ++b) {
    w_[b][0] = linear_init(widths[b][0], in, gen).to(device, dtype).requires_grad_(true);
    w_[b][1] = linear_init(widths[b][1], widths[b][0], gen).to(device, dtype).requires_grad_(true);
    w_[b][2] = linear_init(s.head_dim, widths[b][1], gen).to(device, dtype).requires_grad_(true);
    for (int l = 0; l < 2; ++l) dead_[b][l] = at::zeros({widths[b][l]}, at::TensorOptions().dtype(at::kLong).device(device));
  }
}

torch::Tensor BlockPredictor::features(const torch::Tensor& hidden) const {
  const int64_t S = hidden.size(0), hd = shape_.head_dim, nh = shape_.heads;
  if (hidden.dim() != 2 || hidden.size(1) != nh * hd)
    throw Error(msg("predictor: expected hidden [S, ", nh * hd, "], got ", hidden.sizes()));
  const int64_t nb = (S + shape_.block - 1) / shape_.block;
  auto x = hidden;
  if (nb * shape_.block != S) x = at::constant_pad_nd(hidden, {0, 0, 0, nb * shape_.block - S}, 0.0);
  // [S, nh, hd] -> [nh, S, hd] -> [nh, nb, block * hd]: a block's tokens, one after another.
  return x.view({nb * shape_.block, nh, hd}).transpose(0, 1).reshape({nh, nb, shape_.block * hd}).to(w_[0][0].scalar_type());
}

torch::Tensor BlockPredictor::branch(int b, const torch::Tensor& f, bool track) {
  auto x = f;
  for (int l = 0; l < 2; ++l) {
    x = at::relu(at::linear(x, w_[b][l]));
    if (track) {
      at::NoGradGuard ng;
      dead_[b][l] += x.detach().eq(0).flatten(0, -2).sum(0);
    }
  }
  return at::linear(x, w_[b][2]);
}

torch::Tensor BlockPredictor::forward(const torch::Tensor& hidden, bool track) {
  const auto f = features(hidden);
  if (track) tracked_ += f.size(0) * f.size(1);
  const auto q = branch(0, f, track), k = branch(1, f, track);  // [nh, nb, hd]
  return at::matmul(q, k.transpose(1, 2)).sum(0).to(at::kFloat);
}

std::vector<torch::Tensor> BlockPredictor::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& b : w_)
    for (const auto& w : b) out.push_back(w);
  return out;
}

int64_t BlockPredictor::num_params() const {
  int64_t n = 0;
  for (const auto& w : parameters()) n += w.numel();
  return n;
}

int64_t BlockPredictor::prune_dead(double zero_ratio) {
  if (!(zero_ratio > 0.0 && zero_ratio <= 1.0)) throw Error(msg("predictor: zero_ratio must be in (0, 1], got ", zero_ratio));
  if (tracked_ == 0) return 0;
  at::NoGradGuard ng;
  int64_t removed = 0;
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 2; ++l) {
      const auto alive = (dead_[b][l].to(at::kDouble) / static_cast<double>(tracked_)).lt(zero_ratio);
      const int64_t keep = alive.sum().item<int64_t>();
      // A layer with every neuron dead (or none) is left alone: removing all would break the branch.
      if (keep == 0 || keep == alive.size(0)) continue;
      const auto idx = alive.nonzero().squeeze(1);
      removed += alive.size(0) - keep;
      w_[b][l] = w_[b][l].index_select(0, idx).detach().requires_grad_(true);
      w_[b][l + 1] = w_[b][l + 1].index_select(1, idx).detach().requires_grad_(true);
    }
  shape_.q1 = w_[0][0].size(0);
  shape_.q2 = w_[0][1].size(0);
  shape_.k1 = w_[1][0].size(0);
  shape_.k2 = w_[1][1].size(0);
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 2; ++l) dead_[b][l] = at::zeros({w_[b][l].size(0)}, dead_[b][l].options());
  tracked_ = 0;
  return removed;
}

std::map<std::string, torch::Tensor> BlockPredictor::state() const {
  std::map<std::string, torch::Tensor> out;
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 3; ++l) out[std::string(b == 0 ? "q." : "k.") + std::to_string(l)] = w_[b][l].detach();
  return out;
}

std::map<std::string, std::string> BlockPredictor::metadata() const {
  return {{"heads", std::to_string(shape_.heads)}, {"head_dim", std::to_string(shape_.head_dim)},
          {"block", std::to_string(shape_.block)}, {"q1", std::to_string(shape_.q1)}, {"q2", std::to_string(shape_.q2)},
          {"k1", std::to_string(shape_.k1)}, {"k2", std::to_string(shape_.k2)}};
}

BlockPredictor BlockPredictor::from_state(const std::map<std::string, torch::Tensor>& state,
                                          const std::map<std::string, std::string>& md, torch::Device device,
                                          torch::ScalarType dtype) {
  const auto num = [&](const char* k) -> int64_t {
    const auto it = md.find(k);
    if (it == md.end()) throw Error(msg("predictor: metadata lacks '", k, "'"));
    try {
      return std::stoll(it->second);
    } catch (const std::exception&) {
      throw Error(msg("predictor: metadata '", k, "' is not an integer: '", it->second, "'"));
    }
  };
  BlockPredictor p;
  p.shape_ = {num("heads"), num("head_dim"), num("block"), num("q1"), num("q2"), num("k1"), num("k2")};
  const int64_t in = p.shape_.block * p.shape_.head_dim;
  const int64_t widths[2][2] = {{p.shape_.q1, p.shape_.q2}, {p.shape_.k1, p.shape_.k2}};
  for (int b = 0; b < 2; ++b) {
    const std::vector<std::vector<int64_t>> want = {{widths[b][0], in}, {widths[b][1], widths[b][0]}, {p.shape_.head_dim, widths[b][1]}};
    for (int l = 0; l < 3; ++l) {
      const std::string name = std::string(b == 0 ? "q." : "k.") + std::to_string(l);
      const auto it = state.find(name);
      if (it == state.end()) throw Error(msg("predictor: state lacks '", name, "'"));
      if (it->second.sizes().vec() != want[l])
        throw Error(msg("predictor: '", name, "' has shape ", it->second.sizes(), ", the saved widths imply ", at::IntArrayRef(want[l])));
      p.w_[b][l] = it->second.to(device, dtype).detach().clone().requires_grad_(true);
    }
    for (int l = 0; l < 2; ++l) p.dead_[b][l] = at::zeros({widths[b][l]}, at::TensorOptions().dtype(at::kLong).device(device));
  }
  return p;
}

}  // namespace jenga::core
