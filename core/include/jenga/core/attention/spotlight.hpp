// Spotlight Attention (seeds.md: KV-cache pruning for generation): each decode query keeps a
// small fraction of the cached keys (90-98% pruned), chosen by the Hamming similarity of binary
// hash codes of query and keys, code(x) = sign(x·W + c) with b bits; exact attention then runs on
// the kept keys only. W is either random (training-free linear hashing: Gaussian projection,
// c = 0, the sign-random-projection estimate of the q-k angle) or trained with a ranking loss so
// that keys with the largest q·k share the most bits with the query (the base model frozen).
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace jenga::core::spotlight {

// Per head projections. Queries of query head h use q_proj[h]; keys of key head g use k_proj[g]
// and k_bias[g] (GQA: query head h compares with key head h / (Hq / Hkv)).
struct Hash {
  at::Tensor q_proj;  // float [Hq, D, bits]
  at::Tensor k_proj;  // float [Hkv, D, bits]
  at::Tensor k_bias;  // float [Hkv, bits]
  int64_t bits() const { return q_proj.size(2); }
  void check() const;  // Throws Error unless the shapes agree.
};

// Training-free linear hashing: one Gaussian matrix per key head, shared by its query heads and
// its keys (so equal codes mean a small q-k angle), zero bias. Deterministic in seed.
Hash random_hash(int64_t q_heads, int64_t kv_heads, int64_t dim, int64_t bits, uint64_t seed);

// Codes as float ±1: queries [N, Hq, D] -> [N, Hq, bits]; keys [S, Hkv, D] -> [S, Hkv, bits].
at::Tensor query_codes(const Hash& hash, const at::Tensor& q);
at::Tensor key_codes(const Hash& hash, const at::Tensor& k);

// Bits shared by a decode query q [Hq, D] (or [1, Hq, D]) and each key of k [S, Hkv, D] -> float [Hq, S].
at::Tensor hamming_similarity(const Hash& hash, const at::Tensor& q, const at::Tensor& k);

// Keys kept at a pruning ratio: max(1, ceil((1 - pruning) * seq_k)).
int64_t kept_keys(int64_t seq_k, double pruning);

// The `keep` most similar keys per query head (ties broken toward later keys) -> int64 [Hq, keep] ascending.
at::Tensor select(const Hash& hash, const at::Tensor& q, const at::Tensor& k, int64_t keep);

// Codes packed 32 bits to an int32 word, bit j of word w = code bit 32 w + j (1 for +1, padding
// bits 0): [..., bits] -> int32 [..., ceil(bits / 32)]. At most 64 bits.
at::Tensor pack_codes(const at::Tensor& codes);

// pack_codes(query_codes(hash, q)) and pack_codes(key_codes(hash, k)), without the ±1 tensors
// (one kernel on the GPU): [N, Hq, D] -> int32 [N, Hq, words]; [S, Hkv, D] -> int32 [S, Hkv, words].
at::Tensor packed_query_codes(const Hash& hash, const at::Tensor& q);
at::Tensor packed_key_codes(const Hash& hash, const at::Tensor& k);

// select() on packed codes: query words [Hq, W], key words [Hkv, S, W] (any strides with the
// words of one key contiguous) -> int64 [Hq, keep] ascending, the same keys as top_keys on the
// shared-bit counts. On the GPU one kernel (popcount, a histogram of 0..bits, an ordered pass).
at::Tensor select_packed(const at::Tensor& q_words, const at::Tensor& k_words, int64_t bits, int64_t keep);

// The `keep` best keys of each row of integer similarities [Hq, S], ties broken toward recent
// keys (what select() ranks by), ascending. Shared by callers that keep key codes themselves.
at::Tensor top_keys(const at::Tensor& similarity, int64_t keep);

// The decode layout (seq_q = 1, the query at key position S - 1): kept_keys(S, pruning) keys by
// select() as columns, plus the local_blocks most recent key blocks listed whole (the local window
// is always attended; selected keys inside it are not repeated).
SparseLayout layout(const Hash& hash, const at::Tensor& q, const at::Tensor& k, double pruning, int64_t local_blocks = 1,
                    int64_t block = 64);

// Training of the projections on samples of a layer's queries q [N, Hq, D] and keys k [S, Hkv, D]
// (queries are the last N key positions and see the keys up to their own, as in decoding). Per
// (query, head) the true top_k keys by q·k are the positives, the other visible keys the
// negatives; codes are relaxed to tanh(x·W + c) and the pairwise logistic loss
// softplus(gamma · (sim(neg) - sim(pos)) / bits) over all positive-negative pairs is minimised by
// AdamW. Memory: N · Hq · top_k · S floats per step.
struct TrainOptions {
  int64_t steps = 300;
  int64_t top_k = 32;
  double lr = 1e-2;
  double weight_decay = 1e-2;
  double gamma = 10.0;
  uint64_t seed = 0;  // only the initial projections use it (random_hash); the steps are deterministic
};

// Returns the trained hash (initialised as random_hash(seed)) and appends each step's loss to *losses when given.
Hash train_hash(const at::Tensor& q, const at::Tensor& k, int64_t bits, const TrainOptions& options,
                std::vector<double>* losses = nullptr);

// A model's hashes, one per layer, as one safetensors file (layers.<l>.q_proj / k_proj / k_bias):
// trained offline, loaded by the decode hook. Loading checks each layer's shapes (Hash::check).
void save_hashes(const std::string& path, const std::map<int64_t, Hash>& layers);
std::map<int64_t, Hash> load_hashes(const std::string& path);

}  // namespace jenga::core::spotlight
