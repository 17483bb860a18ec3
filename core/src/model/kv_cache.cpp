#include "jenga/core/model/kv_cache.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace jenga::core {

const KvCache::Layer& KvCache::layer_at(int64_t layer) const {
  if (layer < 0 || layer >= layers() || !layers_[layer].k.defined())
    throw Error(msg("KvCache: no layer ", layer, " (", layers(), " written)"));
  return layers_[layer];
}

at::Tensor KvCache::keys(int64_t layer) const { return layer_at(layer).k.narrow(0, 0, length_); }
at::Tensor KvCache::values(int64_t layer) const { return layer_at(layer).v.narrow(0, 0, length_); }

std::pair<at::Tensor, at::Tensor> KvCache::write(int64_t layer, const at::Tensor& k, const at::Tensor& v) {
  if (layer < 0) throw Error(msg("KvCache: negative layer ", layer));
  if (k.dim() != 3 || k.sizes() != v.sizes() || k.scalar_type() != v.scalar_type() || k.device() != v.device())
    throw Error(msg("KvCache: expected k and v [T, Hkv, D] of one dtype and device, got ", k.sizes(), " and ", v.sizes()));
  if (layer >= layers()) layers_.resize(layer + 1);
  Layer& L = layers_[layer];
  const int64_t T = k.size(0), need = length_ + T;
  if (L.pending != 0) throw Error(msg("KvCache: layer ", layer, " written twice before commit"));
  if (L.k.defined() && (L.k.size(1) != k.size(1) || L.k.size(2) != k.size(2) || L.k.scalar_type() != k.scalar_type() ||
                        L.k.device() != k.device()))
    throw Error(msg("KvCache: layer ", layer, " holds keys [", L.k.size(1), ", ", L.k.size(2), "] of ",
                    c10::toString(L.k.scalar_type()), " on ", L.k.device(), ", got ", k.sizes(), " of ",
                    c10::toString(k.scalar_type()), " on ", k.device()));
  if (!L.k.defined() || L.k.size(0) < need) {
    const int64_t old = L.k.defined() ? L.k.size(0) : 0;
    const int64_t rows = std::max({need, capacity_, 2 * old});
    auto nk = at::empty({rows, k.size(1), k.size(2)}, k.options());
    auto nv = at::empty({rows, k.size(1), k.size(2)}, k.options());
    if (length_ > 0) {
      nk.narrow(0, 0, length_).copy_(L.k.narrow(0, 0, length_));
      nv.narrow(0, 0, length_).copy_(L.v.narrow(0, 0, length_));
    }
    L.k = nk;
    L.v = nv;
  }
  at::NoGradGuard ng;
  L.k.narrow(0, length_, T).copy_(k);
  L.v.narrow(0, length_, T).copy_(v);
  L.pending = T;
  return {L.k.narrow(0, 0, need), L.v.narrow(0, 0, need)};
}

void KvCache::commit(int64_t tokens, int64_t next_position) {
  for (int64_t i = 0; i < layers(); ++i)
    if (layers_[i].pending != tokens)
      throw Error(msg("KvCache: commit of ", tokens, " tokens, but layer ", i, " wrote ", layers_[i].pending));
  if (tokens <= 0 || next_position < 0)
    throw Error(msg("KvCache: commit needs tokens > 0 and a position >= 0, got ", tokens, " and ", next_position));
  for (auto& L : layers_) L.pending = 0;
  length_ += tokens;
  next_position_ = next_position;
}

void KvCache::rollback() {
  for (auto& L : layers_) L.pending = 0;
}

void KvCache::clear() {
  rollback();
  length_ = 0;
  next_position_ = 0;
}

int64_t KvCache::bytes() const {
  int64_t b = 0;
  for (const auto& L : layers_)
    if (L.k.defined()) b += 2 * L.k.numel() * static_cast<int64_t>(L.k.element_size());
  return b;
}

}  // namespace jenga::core
