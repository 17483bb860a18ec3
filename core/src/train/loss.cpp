#include "jenga/core/train/loss.hpp"

#include "jenga/core/error.hpp"
#include "model/precision.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace jenga::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void check_shapes(const at::Tensor& hidden, const at::Tensor& W, const at::Tensor& labels) {
  if (hidden.dim() != 2 || W.dim() != 2 || hidden.size(1) != W.size(1) || labels.dim() != 1 || labels.size(0) != hidden.size(0))
    throw Error(msg("lm loss: expected hidden [S, H], W [V, H], labels [S]; got ", hidden.sizes(), ", ", W.sizes(), ", ", labels.sizes()));
}

// Sum over valid rows of (logsumexp(logits) - logits[label]) for one chunk, in fp32.
at::Tensor chunk_nll_sum(const at::Tensor& h, const at::Tensor& W, const at::Tensor& labels) {
  const auto logits = at::linear(h, W).to(wide_type(h.scalar_type()));
  const auto valid = labels.ne(kIgnoreIndex);
  const auto safe = labels.masked_fill(valid.logical_not(), 0);
  const auto nll = at::logsumexp(logits, -1) - logits.gather(1, safe.unsqueeze(1)).squeeze(1);
  return (nll * valid.to(nll.scalar_type())).sum();
}

struct SegmentedLossFn : public torch::autograd::Function<SegmentedLossFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& W, const at::Tensor& labels,
                            int64_t chunk) {
    const int64_t S = hidden.size(0);
    const auto count = labels.ne(kIgnoreIndex).sum().item<int64_t>();
    auto total = at::zeros({}, hidden.options().dtype(wide_type(hidden.scalar_type())));
    for (int64_t s = 0; s < S; s += chunk) {
      const int64_t n = std::min(chunk, S - s);
      total += chunk_nll_sum(hidden.narrow(0, s, n), W, labels.narrow(0, s, n));
    }
    ctx->save_for_backward({hidden, labels});
    ctx->saved_data["W"] = W;
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["count"] = count;
    return count > 0 ? total / static_cast<double>(count) : total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& hidden = saved[0];
    const auto& labels = saved[1];
    const auto W = ctx->saved_data["W"].toTensor();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const int64_t count = ctx->saved_data["count"].toInt();
    auto dh = at::zeros_like(hidden);
    if (count == 0) return {dh, at::Tensor(), at::Tensor(), at::Tensor()};
    const auto wide = wide_type(hidden.scalar_type());
    const auto scale = grads[0].to(wide) / static_cast<double>(count);
    for (int64_t s = 0; s < hidden.size(0); s += chunk) {
      const int64_t n = std::min(chunk, hidden.size(0) - s);
      const auto lab = labels.narrow(0, s, n);
      const auto valid = lab.ne(kIgnoreIndex);
      // d nll / d logits = softmax - onehot(label), zero on ignored rows.
      auto p = at::softmax(at::linear(hidden.narrow(0, s, n), W).to(wide), -1);
      p.scatter_add_(1, lab.masked_fill(valid.logical_not(), 0).unsqueeze(1),
                     at::full({n, 1}, -1.0, p.options()));
      p.mul_((valid.to(wide) * scale).unsqueeze(1));
      dh.narrow(0, s, n).copy_(at::matmul(p.to(hidden.scalar_type()), W));
    }
    return {dh, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

torch::Tensor next_token_labels(const torch::Tensor& ids) {
  if (ids.dim() != 1) throw Error(msg("next_token_labels: expected ids [S], got ", ids.sizes()));
  auto labels = at::full_like(ids, kIgnoreIndex);
  if (ids.size(0) > 1) labels.narrow(0, 0, ids.size(0) - 1).copy_(ids.narrow(0, 1, ids.size(0) - 1));
  return labels;
}

torch::Tensor segmented_lm_loss(const torch::Tensor& hidden, const torch::Tensor& W, const torch::Tensor& labels, int64_t chunk) {
  check_shapes(hidden, W, labels);
  if (chunk <= 0) throw Error(msg("segmented_lm_loss: chunk must be positive, got ", chunk));
  return SegmentedLossFn::apply(hidden, W, labels.to(hidden.device()), chunk);
}

torch::Tensor dense_lm_loss(const torch::Tensor& hidden, const torch::Tensor& W, const torch::Tensor& labels) {
  check_shapes(hidden, W, labels);
  const auto logits = at::linear(hidden, W).to(wide_type(hidden.scalar_type()));
  return at::cross_entropy_loss(logits, labels.to(hidden.device()), /*weight=*/{}, at::Reduction::Mean, kIgnoreIndex);
}

}  // namespace jenga::core
