// Decode-time key selection for the `decode-bench` task (task_decode_bench.cpp): per layer and
// decode step, which cached keys each query head attends under StreamingLLM (attention sinks + a
// recent window), Quest (top pages by the min/max upper bound on q·k) or Spotlight (top keys by
// Hamming similarity of hash codes, random or trained projections). All methods keep the same
// fraction 1 - pruning of the keys (Quest: of the pages), so they compare at equal budgets.
// A Selector keeps the per-layer state a serving system keeps across steps of one sequence:
// Quest's page bounds and Spotlight's key codes, updated with the new key only (O(1) keys per step).
#pragma once

#include "jenga/core/attention/quest.hpp"
#include "jenga/core/attention/spotlight.hpp"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

namespace jenga::worker::decode {

enum class Method { Dense, Streaming, Quest, SpotlightRandom, SpotlightTrained };
// "dense" | "streaming" | "quest" | "spotlight_random" | "spotlight_trained"; Error otherwise.
Method parse_method(const std::string& name);
bool is_spotlight(Method m);

struct Options {
  Method method = Method::Dense;
  double pruning = 0.9;      // fraction of keys (Quest: pages) dropped
  int64_t page_size = 16;    // Quest
  int64_t sink_tokens = 4;   // StreamingLLM's attention sinks (at most half the kept keys)
};

class Selector {
 public:
  // hashes: Spotlight's per-layer projections (moved to `device` once); unused by other methods.
  Selector(const Options& options, std::map<int64_t, core::spotlight::Hash> hashes, c10::Device device);
  // A new sequence: drops the per-layer state.
  void reset();
  // The keys decode query q [1, Hq, D] of layer `layer` attends among k [S, Hkv, D] (the cached
  // keys and its own, last) -> int64 [Hq, n] ascending, -1 for padding (Quest's ragged last page).
  at::Tensor select(int64_t layer, const at::Tensor& q, const at::Tensor& k);

 private:
  at::Tensor streaming(const at::Tensor& q, int64_t S) const;
  at::Tensor quest(int64_t layer, const at::Tensor& q, const at::Tensor& k);
  at::Tensor spotlight(int64_t layer, const at::Tensor& q, const at::Tensor& k);

  struct Codes {
    at::Tensor buf;     // packed key codes, int32 [Hkv, capacity, words] (spotlight::pack_codes)
    int64_t count = 0;  // rows filled
  };
  Options options_;
  std::map<int64_t, core::spotlight::Hash> hashes_;
  std::map<int64_t, core::quest::PageBounds> bounds_;
  std::map<int64_t, Codes> codes_;
};

}  // namespace jenga::worker::decode
