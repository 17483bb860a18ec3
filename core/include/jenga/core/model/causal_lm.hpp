// A decoder-only causal LM (Llama family or OPT) built from a HF config: base weights (bf16 or
// fp32) frozen under LoRA adapters, or trained themselves (pre-training: train_base_weights).
// One sequence, or a batch of equal-length sequences packed into one. Forward gives final hidden
// states; the LM head and loss are applied by the caller (segmented_lm_loss, or logits()).
// Generation runs prefill() once and decode() per token over a KvCache.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/lora/lora.hpp"
#include "jenga/core/model/config.hpp"

#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jenga::core {

class Checkpoint;
class KvCache;

// Chooses layer `layer`'s attention layout from its RoPE'd queries q [T, Hq, D] and the keys they
// attend k [S, Hkv, D] (queries are the last T of S positions; S > T with a cache); std::nullopt
// keeps dense causal attention. q and k are detached: no gradient flows through the choice.
using AttentionLayoutFn =
    std::function<std::optional<SparseLayout>(int64_t layer, const torch::Tensor& q, const torch::Tensor& k)>;

struct ModelOptions {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kBFloat16;  // base weights and activations
  bool gradient_checkpointing = false;         // recompute each layer in backward
  // Checkpointing with each layer's input kept in pinned host memory, copied on a side stream
  // while the layers compute (implies gradient_checkpointing).
  bool offload_activations = false;
  // RoPE linear scaling applied on top of the config's (LongLoRA-style context extension); 1 = none.
  double rope_linear_factor = 1.0;
};

// What a layer does to its input tokens (token elimination plugs in here). Default: every
// token, dense causal attention, exact MLP backward.
struct LayerHooks {
  // Returns kept token indices (sorted, int64 on the model's device) for layer `layer`, given the
  // layer input [S, H]; an undefined tensor keeps every token. Only kept tokens are normalised,
  // projected, RoPE'd at their original positions and attend causally among themselves; the
  // others get no attention update (their residual passes through); every token runs the MLP.
  std::function<torch::Tensor(int64_t layer, const torch::Tensor& hidden)> select_tokens;
  // When select_tokens keeps whole blocks of this many tokens (0: no such promise), the kept rows
  // move by block lists in fused kernels on CUDA instead of per-token index ops.
  int64_t token_block = 0;
  // MLP channel pruning for backward, per layer: a ratio in [0, 1); 0 (or no hook) is exact.
  std::function<double(int64_t layer)> mlp_prune_ratio;
  // Attention groups per layer: 0 or 1 is dense causal attention over the (kept) tokens; G > 1 is
  // LongLoRA's shifted sparse attention in G groups (see causal_attention in model/attention.hpp).
  std::function<int64_t(int64_t layer)> attention_groups;
  // Attention-sparsity methods (MInference, StreamingLLM, Quest, ...): a layer whose hook returns
  // a layout runs block_sparse_attention over it instead of dense causal attention, in training
  // (forward and backward), pre-fill and decode. Called once per layer and forward (a checkpointed
  // layer's recomputation reuses the layout). Not with select_tokens, attention_groups or batches.
  AttentionLayoutFn attention_layout;
  // Position ids int64 [S] of the tokens (RoPE for Llama, learned positions for OPT) instead of
  // 0..S-1 (or the cache's next positions): parallel context encoding restarts them per piece.
  // Values must be >= 0 (and < max_position_embeddings for OPT); not with batches.
  torch::Tensor positions;
  // Called with "forward/layer i" after each layer's forward and "backward/layer i" when the
  // backward pass reaches that layer's output (the profiler's allocation timeline).
  std::function<void(const std::string& label)> mark;
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;

  const ModelConfig& config() const { return config_; }
  const ModelOptions& options() const { return options_; }

  // ids: int64 [S], or [B, S] for B independent sequences (run packed as B·S rows, each attending
  // within its own sequence, positions from 0 in each; token elimination and attention groups
  // need B = 1). Returns the final hidden states [B·S, hidden] (after the final norm / project_out).
  virtual torch::Tensor forward_hidden(const torch::Tensor& ids, const LayerHooks& hooks = {}) = 0;
  // Layer `layer`'s query and key projections of its input x [S, H], before RoPE, without
  // adapters' gradients: q [S, Hq, D], k [S, Hkv, D]. For exact block maps (predictor targets).
  virtual std::pair<torch::Tensor, torch::Tensor> attention_qk(int64_t layer, const torch::Tensor& x) = 0;
  // The LM head matrix [vocab, hidden'] (tied models return the embedding).
  virtual torch::Tensor lm_head_weight() const = 0;
  // logits [S, vocab] in fp32, for evaluation and tests (training uses segmented_lm_loss).
  torch::Tensor logits(const torch::Tensor& ids, const LayerHooks& hooks = {});

  // Runs ids [T] (one sequence) after the tokens already in `cache` (none for a fresh one),
  // appending every layer's keys and values; the new tokens attend the cached ones and causally
  // among themselves, at positions cache.next_position()... (or hooks.positions). Returns their
  // final hidden states [T, hidden'] (as forward_hidden: the caller picks the rows to score).
  // No gradients; Error with select_tokens or attention_groups.
  torch::Tensor prefill(const torch::Tensor& ids, KvCache& cache, const LayerHooks& hooks = {});
  // One new token attending the whole cache (and itself), appended to it: its logits [vocab] in
  // fp32. hooks.attention_layout sees q [1, Hq, D] and the cached keys (decode-time key selection,
  // Quest / Spotlight). Error on an empty cache.
  torch::Tensor decode(int64_t token, KvCache& cache, const LayerHooks& hooks = {});

  // LoRA: attaches fresh adapters (seeded) to the configured projections of every layer.
  void add_lora(const LoraConfig& cfg, uint64_t seed);
  const LoraConfig& lora_config() const { return lora_cfg_; }
  // Trainable tensors by PEFT name ("base_model.model.<module>.lora_A.weight").
  std::map<std::string, torch::Tensor> lora_state() const;
  // LoRA tensors, then the base weights when train_base_weights(true) (in name order).
  std::vector<torch::Tensor> trainable_parameters() const;

  // Full-parameter training (pre-training): every base weight gets gradients. Needs fp32 (or fp64)
  // weights, as they are the optimizer's masters; Error otherwise. MLP pruning refuses trained MLPs.
  void train_base_weights(bool on);
  bool base_weights_trained() const { return base_trained_; }
  // HF layout: <dir>/model.safetensors (weights cast to `dtype`) + config.json + `extra_files`
  // (name -> bytes, e.g. tokenizer.model), loadable by make_causal_lm and transformers'
  // from_pretrained. Written to <dir>.partial and renamed over <dir>, so a failed save leaves no
  // half-written checkpoint behind.
  void save_pretrained(const std::string& dir, torch::ScalarType dtype,
                       const std::map<std::string, std::string>& extra_files = {}) const;
  // PEFT layout: <dir>/adapter_model.safetensors + adapter_config.json.
  void save_adapter(const std::string& dir) const;
  void load_adapter(const std::string& dir);  // Error on shape/name mismatch

  // Base weights by HF name, and the bytes they hold (memory accounting).
  const std::map<std::string, torch::Tensor>& base_weights() const { return weights_; }
  int64_t base_weight_bytes() const;

 protected:
  // One base tensor the architecture needs: HF name, shape, and how random init fills it.
  struct WeightSpec {
    std::string name;
    std::vector<int64_t> shape;
    enum class Init { Normal, Ones, Zeros } init = Init::Normal;
  };

  CausalLM(ModelConfig config, ModelOptions options) : config_(std::move(config)), options_(options) {}
  // Fills weights_ from the checkpoint (shapes checked) or by seeded random init (N(0, 0.02)).
  void materialize(const std::vector<WeightSpec>& specs, const std::string& checkpoint_dir, uint64_t seed);
  const torch::Tensor& w(const std::string& name) const;  // Error if absent
  // Reports layer i's forward to hooks.mark now, and its backward when the gradient of `out` is formed.
  static void mark_layer(const LayerHooks& hooks, int64_t i, const torch::Tensor& out);
  // Tokens per sequence when ids [B, S] hold B > 1 sequences, else 0; Error (naming `arch`) for
  // other shapes, or for hooks that need a single sequence.
  static int64_t packed_segment(const torch::Tensor& ids, const LayerHooks& hooks, const char* arch);
  // Positions of S packed rows: (row mod segment) + offset, or row + offset when segment is 0.
  torch::Tensor packed_positions(int64_t S, int64_t segment, int64_t offset) const;
  // Starts a forward: keeps hooks.attention_layout for attend() and refuses hook combinations
  // that make no sense (see LayerHooks). Returns the position ids of the S rows (int64 on the
  // device, without the architecture's offset): hooks.positions, the cache's next positions in
  // prefill / decode, or packed_positions. `limit` > 0: every position must be below it.
  torch::Tensor begin_forward(int64_t S, int64_t segment, const LayerHooks& hooks, int64_t limit, const char* arch);
  // Layer `layer`'s attention for RoPE'd q [T, Hq, D] and the new tokens' k / v [T, Hkv, D]
  // (appended to the cache in prefill / decode, the queries then attending all cached keys):
  // the layout hook's layout when it gives one, else dense causal attention (LongLoRA groups or
  // packed sequences as given). Returns [T, Hq, D].
  torch::Tensor attend(int64_t layer, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       double scale, int64_t groups, int64_t segment);
  torch::Tensor w_or_undefined(const std::string& name) const;

  // (module path in HF naming, e.g. "model.layers.3.self_attn.q_proj", short name "q") for every
  // projection an adapter may target; the module's weight is weights_[path + ".weight"].
  virtual std::vector<std::pair<std::string, std::string>> lora_sites() const = 0;
  // The adapter for a module path (an empty pair if none).
  const LoraPair& lora_for(const std::string& module_path) const;

  ModelConfig config_;
  ModelOptions options_;
  std::map<std::string, torch::Tensor> weights_;
  LoraConfig lora_cfg_;
  std::map<std::string, LoraPair> lora_;  // module path -> adapter
  bool base_trained_ = false;

 private:
  KvCache* cache_ = nullptr;                          // set by prefill / decode for their forward
  AttentionLayoutFn layout_fn_;                       // hooks.attention_layout of the current forward
  std::vector<std::optional<SparseLayout>> layouts_;  // per layer, once asked (checkpoint recompute reuses)
  std::vector<char> layout_asked_;
};

// Builds a model from a config; weights from `checkpoint_dir` (HF safetensors, single or
// sharded) or, when empty, random init seeded by `seed` (same shapes; for systems benchmarks).
std::unique_ptr<CausalLM> make_causal_lm(const ModelConfig& config, const ModelOptions& options,
                                         const std::string& checkpoint_dir, uint64_t seed = 0);

}  // namespace jenga::core
