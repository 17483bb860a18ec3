#include "jenga/core/train/loss.hpp"

#include "jenga/core/error.hpp"
#include "model/precision.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#ifdef JENGA_CUDA_KERNELS
#include "kernels/softmax_xent.cuh"
#include "kernels/torch_bridge.hpp"
#endif

namespace jenga::core {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void check_shapes(const at::Tensor& hidden, const at::Tensor& W, const at::Tensor& labels) {
  if (hidden.dim() != 2 || W.dim() != 2 || hidden.size(1) != W.size(1) || labels.dim() != 1 || labels.size(0) != hidden.size(0))
    throw Error(msg("lm loss: expected hidden [S, H], W [V, H], labels [S]; got ", hidden.sizes(), ", ", W.sizes(), ", ", labels.sizes()));
}

// One chunk of rows: returns the summed nll over valid rows (wide dtype scalar) and, when
// `want_grad`, overwrites `logits` with d(sum nll)/d(logits) = softmax - onehot (zero on ignored
// rows), in the logits' dtype. Fused CUDA kernel for GPU tensors; the reference formula elsewhere.
at::Tensor chunk_nll_and_grad(at::Tensor& logits, const at::Tensor& labels, bool want_grad) {
  const auto wide = wide_type(logits.scalar_type());
#ifdef JENGA_CUDA_KERNELS
  if (logits.is_cuda()) {
    const auto st = logits.scalar_type();
    if (st == at::kBFloat16 || st == at::kHalf || st == at::kFloat) {
      const auto et = kernels::element_type(logits, "segmented loss");
      auto nll = at::empty({logits.size(0)}, logits.options().dtype(at::kFloat));
      const auto lab = labels.contiguous();
      kernels::check_cuda(kernels::softmax_xent_rows(logits.data_ptr(), et, lab.data_ptr<int64_t>(), nll.data_ptr<float>(),
                                                     logits.size(0), logits.size(1), logits.stride(0), kIgnoreIndex,
                                                     want_grad, kernels::current_stream()),
                          "segmented loss: softmax_xent_rows");
      return nll.sum();
    }
  }
#endif
  const auto valid = labels.ne(kIgnoreIndex);
  const auto safe = labels.masked_fill(valid.logical_not(), 0).unsqueeze(1);
  auto logp = at::log_softmax(logits.to(wide), -1);
  const auto nll = (logp.gather(1, safe).squeeze(1).neg() * valid.to(wide)).sum();
  if (want_grad) {
    auto p = logp.exp_();
    p.scatter_add_(1, safe, at::full({p.size(0), 1}, -1.0, p.options()));
    p.mul_(valid.to(wide).unsqueeze(1));
    logits.copy_(p);
  }
  return nll;
}

// The gradient is computed in the forward pass (fused linear cross-entropy): the loss ends the
// graph, so d loss / d hidden is known up to the incoming scalar, and the head matmul need not be
// recomputed in backward. Only dh [S, H] is kept; no [S, V] tensor outlives its chunk.
struct SegmentedLossFn : public torch::autograd::Function<SegmentedLossFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& W, const at::Tensor& labels,
                            int64_t chunk) {
    const int64_t S = hidden.size(0), V = W.size(0);
    const auto valid = labels.ne(kIgnoreIndex);
    // One host sync for both numbers: the count of scored rows and of out-of-range labels.
    const auto stats = at::stack({valid.sum(), valid.logical_and(labels.lt(0).logical_or(labels.ge(V))).sum()}).cpu();
    const auto count = stats[0].item<int64_t>();
    if (stats[1].item<int64_t>() > 0) throw Error(msg("lm loss: labels outside [0, ", V, ") other than ", kIgnoreIndex));
    // A trained head (pre-training) also gets dW = Σ_chunks dlogitsᵀ · h, one [V, H] tensor.
    const bool want_dh = hidden.requires_grad(), want_dw = W.requires_grad(), want_grad = want_dh || want_dw;
    auto total = at::zeros({}, hidden.options().dtype(wide_type(hidden.scalar_type())));
    at::Tensor dh = want_dh ? at::empty_like(hidden, at::MemoryFormat::Contiguous) : at::Tensor();
    at::Tensor dw = want_dw ? at::zeros_like(W, at::MemoryFormat::Contiguous) : at::Tensor();
    for (int64_t s = 0; s < S; s += chunk) {
      const int64_t n = std::min(chunk, S - s);
      const auto h = hidden.narrow(0, s, n);
      auto logits = at::linear(h, W);
      total += chunk_nll_and_grad(logits, labels.narrow(0, s, n), want_grad);
      if (want_dh) {
        auto out = dh.narrow(0, s, n);
        at::mm_out(out, logits, W);
      }
      if (want_dw) dw.addmm_(logits.t(), h);
    }
    ctx->save_for_backward({dh, dw});
    ctx->saved_data["count"] = count;
    return count > 0 ? total / static_cast<double>(count) : total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &dh = saved[0], &dw = saved[1];
    const int64_t count = ctx->saved_data["count"].toInt();
    const auto scaled = [&](const at::Tensor& d) {
      if (!d.defined()) return at::Tensor();
      return count == 0 ? at::zeros_like(d) : d * (grads[0] / static_cast<double>(count));
    };
    return {scaled(dh), scaled(dw), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

torch::Tensor next_token_labels(const torch::Tensor& ids) {
  if (ids.dim() != 1 && ids.dim() != 2) throw Error(msg("next_token_labels: expected ids [S] or [B, S], got ", ids.sizes()));
  const auto rows = ids.dim() == 1 ? ids.unsqueeze(0) : ids;
  auto labels = at::full_like(rows, kIgnoreIndex);
  const int64_t S = rows.size(1);
  if (S > 1) labels.narrow(1, 0, S - 1).copy_(rows.narrow(1, 1, S - 1));
  return labels.reshape({-1});
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
