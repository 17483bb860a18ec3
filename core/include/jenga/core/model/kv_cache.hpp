// Every layer's keys and values (after RoPE) for the tokens a model has run so far, token-major,
// so a decode step attends the whole prefix without recomputing it (CausalLM::prefill / decode).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace jenga::core {

class KvCache {
 public:
  // capacity: tokens per layer allocated at the first write (at least what it needs); a write
  // beyond the storage grows it (doubling, one copy), so a right capacity avoids every copy.
  explicit KvCache(int64_t capacity = 0) : capacity_(capacity) {}

  int64_t length() const { return length_; }                // tokens cached (committed)
  int64_t next_position() const { return next_position_; }  // position id of the next token
  int64_t layers() const { return static_cast<int64_t>(layers_.size()); }
  // Layer `layer`'s cached keys / values [length, Hkv, D] (views of the storage). Error if absent.
  at::Tensor keys(int64_t layer) const;
  at::Tensor values(int64_t layer) const;
  // Stores k / v [T, Hkv, D] after the cached tokens (not counted until commit) and returns the
  // keys / values of the cached and new tokens [length + T, Hkv, D]. Error when shapes, dtype or
  // device differ from the earlier tokens', or the layer already holds uncommitted tokens.
  std::pair<at::Tensor, at::Tensor> write(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  // Counts the `tokens` just written (by every layer: Error otherwise) as cached; the next token
  // gets position `next_position` (positions need not equal the length: parallel context encoding).
  void commit(int64_t tokens, int64_t next_position);
  // Drops uncommitted writes (a forward that failed midway).
  void rollback();
  void clear();         // back to empty (storage kept for reuse)
  int64_t bytes() const;  // storage held, all layers

 private:
  struct Layer {
    at::Tensor k, v;      // [storage, Hkv, D]
    int64_t pending = 0;  // tokens written after length_, not committed
  };
  const Layer& layer_at(int64_t layer) const;

  std::vector<Layer> layers_;
  int64_t capacity_ = 0, length_ = 0, next_position_ = 0;
};

}  // namespace jenga::core
