// Language-model loss: mean cross-entropy of logits = hidden · Wᵀ against next-token labels
// (label -100 = ignored), as HF computes it (fp32 logits).
#pragma once

#include <torch/types.h>

namespace jenga::core {

constexpr int64_t kIgnoreIndex = -100;

// labels[i] = ids[i + 1]; the last position is ignored. ids: int64 [S], or [B, S] (each row's
// last position ignored; labels flattened to [B·S] like the packed forward's rows).
torch::Tensor next_token_labels(const torch::Tensor& ids);

// Segmented: `chunk` rows at a time, so no [S, vocab] tensor exists at once; when hidden requires
// grad, d loss/d hidden is formed chunk by chunk in the forward pass (fused linear cross-entropy).
// A head W that requires grad (pre-training) gets its gradient too, summed over the chunks.
// hidden [S, H], W [V, H], labels [S] in [0, V) or -100.
torch::Tensor segmented_lm_loss(const torch::Tensor& hidden, const torch::Tensor& W, const torch::Tensor& labels,
                                int64_t chunk = 2048);

// The whole logits matrix at once (the baseline behaviour; tests compare the two).
torch::Tensor dense_lm_loss(const torch::Tensor& hidden, const torch::Tensor& W, const torch::Tensor& labels);

}  // namespace jenga::core
