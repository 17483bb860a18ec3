// Decode-time key selection (decode_methods.hpp): StreamingLLM, Quest and Spotlight selections
// with their per-layer state kept across the decode steps of one sequence.
#include "decode_methods.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace jenga::worker::decode {
namespace {

at::TensorOptions longs(c10::Device d) { return at::TensorOptions().dtype(at::kLong).device(d); }

}  // namespace

Method parse_method(const std::string& name) {
  if (name == "dense") return Method::Dense;
  if (name == "streaming") return Method::Streaming;
  if (name == "quest") return Method::Quest;
  if (name == "spotlight_random") return Method::SpotlightRandom;
  if (name == "spotlight_trained") return Method::SpotlightTrained;
  throw core::Error(core::msg("decode-bench: unknown method '", name,
                              "' (dense, streaming, quest, spotlight_random, spotlight_trained)"));
}

bool is_spotlight(Method m) { return m == Method::SpotlightRandom || m == Method::SpotlightTrained; }

Selector::Selector(const Options& options, std::map<int64_t, core::spotlight::Hash> hashes, c10::Device device)
    : options_(options) {
  if (!(options.pruning >= 0.0 && options.pruning < 1.0))
    throw core::Error(core::msg("decode-bench: pruning must be in [0, 1), got ", options.pruning));
  if (options.page_size < 1) throw core::Error(core::msg("decode-bench: page_size must be >= 1, got ", options.page_size));
  if (options.sink_tokens < 0) throw core::Error(core::msg("decode-bench: sink_tokens must be >= 0, got ", options.sink_tokens));
  for (auto& [layer, h] : hashes) {
    h.check();
    hashes_[layer] = core::spotlight::Hash{h.q_proj.to(device), h.k_proj.to(device), h.k_bias.to(device)};
  }
}

void Selector::reset() {
  bounds_.clear();
  codes_.clear();
}

at::Tensor Selector::select(int64_t layer, const at::Tensor& q, const at::Tensor& k) {
  if (q.dim() != 3 || q.size(0) != 1 || k.dim() != 3)
    throw core::Error(core::msg("decode-bench: layer ", layer, ": expected a decode query [1, Hq, D] and keys [S, Hkv, D], got ",
                                q.sizes(), " and ", k.sizes()));
  switch (options_.method) {
    case Method::Streaming: return streaming(q, k.size(0));
    case Method::Quest: return quest(layer, q, k);
    case Method::SpotlightRandom:
    case Method::SpotlightTrained: return spotlight(layer, q, k);
    case Method::Dense: break;
  }
  throw core::Error("decode-bench: dense attention selects no keys");
}

at::Tensor Selector::streaming(const at::Tensor& q, int64_t S) const {
  const int64_t kept = core::spotlight::kept_keys(S, options_.pruning);
  const int64_t sink = std::min(options_.sink_tokens, kept / 2);
  const auto keys = at::cat({at::arange(sink, longs(q.device())), at::arange(S - (kept - sink), S, longs(q.device()))});
  return keys.view({1, -1}).expand({q.size(1), kept}).contiguous();
}

at::Tensor Selector::quest(int64_t layer, const at::Tensor& q, const at::Tensor& k) {
  const int64_t S = k.size(0), ps = options_.page_size;
  auto it = bounds_.find(layer);
  if (it == bounds_.end() || it->second.seq_k > S) {
    it = bounds_.insert_or_assign(layer, core::quest::page_bounds(k, ps)).first;
  } else if (it->second.seq_k < S) {
    core::quest::append_keys(it->second, k.slice(0, it->second.seq_k, S));
  }
  const int64_t pages = it->second.pages();
  const int64_t top = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - options_.pruning) * static_cast<double>(pages) - 1e-9)));
  return core::quest::select_keys(q, it->second, top);  // ascending, the newest page cut at S: no sync
}

at::Tensor Selector::spotlight(int64_t layer, const at::Tensor& q, const at::Tensor& k) {
  const auto h = hashes_.find(layer);
  if (h == hashes_.end()) throw core::Error(core::msg("decode-bench: no Spotlight hash for layer ", layer));
  const auto& hash = h->second;
  const int64_t S = k.size(0), Hq = q.size(1), Hkv = k.size(1), bits = hash.bits();
  if (Hq % Hkv != 0) throw core::Error(core::msg("decode-bench: query heads ", Hq, " not a multiple of key heads ", Hkv));
  auto& c = codes_[layer];
  if (!c.buf.defined() || c.count > S) c = Codes{};
  if (c.count < S) {
    // Only the keys cached since the last step are hashed; a head's codes stay contiguous.
    const auto fresh = core::spotlight::packed_key_codes(hash, k.slice(0, c.count, S)).transpose(0, 1);
    if (!c.buf.defined() || c.buf.size(1) < S) {
      auto grown = at::empty({Hkv, std::max<int64_t>(2 * S, 64), fresh.size(2)}, fresh.options());
      if (c.count > 0) grown.slice(1, 0, c.count).copy_(c.buf.slice(1, 0, c.count));
      c.buf = grown;
    }
    c.buf.slice(1, c.count, S).copy_(fresh);
    c.count = S;
  }
  const auto qw = core::spotlight::packed_query_codes(hash, q).view({Hq, -1});
  return core::spotlight::select_packed(qw, c.buf.slice(1, 0, S), bits, core::spotlight::kept_keys(S, options_.pruning));
}

}  // namespace jenga::worker::decode
