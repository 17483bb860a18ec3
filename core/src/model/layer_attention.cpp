// The attention step every architecture shares (dense, LongLoRA groups, packed sequences, a
// sparsity method's layout, a KV cache) and the cached forwards built on it: prefill and decode.
#include "jenga/core/attention/block_sparse_attention.hpp"
#include "jenga/core/compat.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/model/kv_cache.hpp"
#include "model/attention.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace jenga::core {
namespace {

// Sets the model's cache pointer for one forward and clears it (and uncommitted writes) on exit.
class CacheScope {
 public:
  CacheScope(KvCache*& slot, KvCache& cache) : slot_(slot), cache_(cache) { slot_ = &cache; }
  ~CacheScope() {
    slot_ = nullptr;
    cache_.rollback();  // no-op after a commit
  }
  CacheScope(const CacheScope&) = delete;
  CacheScope& operator=(const CacheScope&) = delete;

 private:
  KvCache*& slot_;
  KvCache& cache_;
};

// Keeps SDPA off cuDNN for one call. cuDNN's attention builds an execution plan per shape, and a
// decode step's key count is new at every step; the flash and memory-efficient kernels take any
// length as it comes.
class NoCudnnAttention {
 public:
#if JENGA_TORCH_AT_LEAST(2, 2)
  NoCudnnAttention() : was_(at::globalContext().userEnabledCuDNNSDP()) { at::globalContext().setSDPUseCuDNN(false); }
  ~NoCudnnAttention() { at::globalContext().setSDPUseCuDNN(was_); }

 private:
  bool was_;
#endif
};

}  // namespace

torch::Tensor CausalLM::begin_forward(int64_t S, int64_t segment, const LayerHooks& hooks, int64_t limit, const char* arch) {
  if (hooks.attention_layout && (hooks.select_tokens || hooks.attention_groups))
    throw Error(msg(arch, ": attention_layout cannot be combined with select_tokens or attention_groups "
                          "(a layout is drawn on the whole sequence)"));
  if (cache_ && (hooks.select_tokens || hooks.attention_groups))
    throw Error(msg(arch, ": prefill / decode run every token with dense or layout attention; "
                          "select_tokens and attention_groups are for full forwards"));
  layout_fn_ = hooks.attention_layout;
  layouts_.assign(layout_fn_ ? config_.num_layers : 0, std::nullopt);
  layout_asked_.assign(layouts_.size(), 0);

  const auto opts = at::TensorOptions().dtype(at::kLong).device(options_.device);
  if (hooks.positions.defined()) {
    const auto& p = hooks.positions;
    if (p.dim() != 1 || p.size(0) != S || !at::isIntegralType(p.scalar_type(), /*includeBool=*/false))
      throw Error(msg(arch, ": positions must be integer [", S, "] (one per token), got ", c10::toString(p.scalar_type()),
                      " ", p.sizes()));
    const int64_t lo = p.min().item<int64_t>(), hi = p.max().item<int64_t>();
    if (lo < 0 || (limit > 0 && hi >= limit))
      throw Error(msg(arch, ": positions must lie in [0, ", limit > 0 ? std::to_string(limit) : std::string("inf"), "), got [",
                      lo, ", ", hi, "]"));
    return p.to(opts);
  }
  const int64_t first = cache_ ? cache_->next_position() : 0, last = first + (segment > 0 ? segment : S) - 1;
  if (limit > 0 && last >= limit)
    throw Error(msg(arch, ": position ", last, " (", segment > 0 ? segment : S, " tokens after ", first,
                    ") exceeds max_position_embeddings ", limit));
  return cache_ ? at::arange(first, first + S, opts) : packed_positions(S, segment, 0);
}

torch::Tensor CausalLM::attend(int64_t layer, const torch::Tensor& q, const torch::Tensor& k_new, const torch::Tensor& v_new,
                               double scale, int64_t groups, int64_t segment) {
  at::Tensor k = k_new, v = v_new;
  if (cache_) std::tie(k, v) = cache_->write(layer, k_new, v_new);
  const int64_t T = q.size(0), S = k.size(0);
  if (layout_fn_) {
    if (!layout_asked_.at(layer)) {
      at::NoGradGuard ng;
      layouts_[layer] = layout_fn_(layer, q.detach(), k.detach());
      layout_asked_[layer] = 1;
    }
    if (const auto& L = layouts_[layer]) {
      if (L->heads != q.size(1) || L->seq_q != T || L->seq_k != S)
        throw Error(msg("attention_layout: layer ", layer, " needs a layout of ", q.size(1), " heads, seq_q ", T,
                        ", seq_k ", S, "; got ", L->heads, " heads, seq_q ", L->seq_q, ", seq_k ", L->seq_k));
      const bool here = !L->block_offsets.defined() || L->block_offsets.device() == q.device();
      return block_sparse_attention(q, k, v, here ? *L : L->to(q.device()), scale);
    }
  }
  if (T == S) return segment > 0 ? packed_causal_attention(q, k, v, scale, segment) : causal_attention(q, k, v, scale, groups);
  if (T == 1) {
    // The newest token sees every cached key: no mask at all.
    const NoCudnnAttention no_cudnn;
    const auto o = compat::scaled_dot_product_attention(q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0),
                                                        v.transpose(0, 1).unsqueeze(0), /*causal=*/false, scale);
    return o.squeeze(0).transpose(0, 1);
  }
  // A pre-fill chunk after cached tokens: causal with the queries as the last T keys. SDPA's
  // is_causal aligns top-left in torch 2.x, so the layout path (dense) does it.
  LayoutShape shape;
  shape.heads = q.size(1);
  shape.seq_q = T;
  shape.seq_k = S;
  return block_sparse_attention(q, k, v, dense_causal_layout(shape, q.device()), scale);
}

torch::Tensor CausalLM::prefill(const torch::Tensor& ids, KvCache& cache, const LayerHooks& hooks) {
  if (ids.dim() != 1 || ids.numel() == 0) throw Error(msg("prefill: expected token ids [T] with T > 0, got ", ids.sizes()));
  at::NoGradGuard ng;
  const int64_t T = ids.size(0);
  CacheScope scope(cache_, cache);
  auto h = forward_hidden(ids, hooks);
  const int64_t next = hooks.positions.defined() ? hooks.positions.max().item<int64_t>() + 1 : cache.next_position() + T;
  cache.commit(T, next);
  return h;
}

torch::Tensor CausalLM::decode(int64_t token, KvCache& cache, const LayerHooks& hooks) {
  if (cache.length() == 0) throw Error("decode: empty cache (prefill the prompt first)");
  if (token < 0 || token >= config_.vocab_size)
    throw Error(msg("decode: token ", token, " outside the vocabulary [0, ", config_.vocab_size, ")"));
  at::NoGradGuard ng;
  const auto head = lm_head_weight();
  const auto h = prefill(at::tensor({token}, at::kLong).to(head.device()), cache, hooks);
  // One [vocab, hidden] x [hidden] product in the head's own dtype, read as fp32.
  return at::matmul(head, h[0].to(head.scalar_type())).to(at::kFloat);
}

}  // namespace jenga::core
