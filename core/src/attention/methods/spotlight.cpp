// Spotlight's hash codes, Hamming selection and ranking-loss training (spotlight.hpp).
#include "jenga/core/attention/spotlight.hpp"

#include "attention/methods/internal.hpp"
#include "jenga/core/attention/selection.hpp"
#include "jenga/core/io/safetensors.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <set>

#ifdef JENGA_CUDA_KERNELS
#include "attention/hamming_select.cuh"
#include "kernels/torch_bridge.hpp"

#include <c10/cuda/CUDAGuard.h>
#endif

namespace jenga::core::spotlight {

using methods_detail::decode_query;
using methods_detail::longs;

namespace {

// x [N, H, D] · W [H, D, bits] (+ c [H, bits]) -> [N, H, bits], pre-sign.
at::Tensor project(const at::Tensor& x, const at::Tensor& w, const at::Tensor& c) {
  auto y = at::einsum("nhd,hdb->nhb", {x.to(at::kFloat), w});
  return c.defined() ? y + c.unsqueeze(0) : y;
}

at::Tensor sign_pm1(const at::Tensor& x) { return at::where(x.ge(0), at::ones_like(x), -at::ones_like(x)); }

}  // namespace

void Hash::check() const {
  if (!q_proj.defined() || !k_proj.defined() || !k_bias.defined() || q_proj.dim() != 3 || k_proj.dim() != 3 ||
      k_bias.dim() != 2 || q_proj.size(1) != k_proj.size(1) || q_proj.size(2) != k_proj.size(2) ||
      k_bias.size(0) != k_proj.size(0) || k_bias.size(1) != k_proj.size(2) || k_proj.size(0) == 0 ||
      q_proj.size(0) % k_proj.size(0) != 0)
    throw Error(msg("spotlight hash: expected q_proj [Hq, D, bits], k_proj [Hkv, D, bits], k_bias [Hkv, bits] with Hq a multiple "
                    "of Hkv, got ",
                    q_proj.defined() ? q_proj.sizes() : at::IntArrayRef{}, ", ", k_proj.defined() ? k_proj.sizes() : at::IntArrayRef{},
                    ", ", k_bias.defined() ? k_bias.sizes() : at::IntArrayRef{}));
}

Hash random_hash(int64_t q_heads, int64_t kv_heads, int64_t dim, int64_t bits, uint64_t seed) {
  if (q_heads <= 0 || kv_heads <= 0 || q_heads % kv_heads != 0 || dim <= 0 || bits <= 0)
    throw Error(msg("spotlight::random_hash: needs positive sizes with q_heads a multiple of kv_heads, got q_heads ", q_heads,
                    ", kv_heads ", kv_heads, ", dim ", dim, ", bits ", bits));
  auto gen = at::detail::createCPUGenerator(seed);
  Hash h;
  h.k_proj = at::randn({kv_heads, dim, bits}, gen, at::TensorOptions().dtype(at::kFloat));
  h.q_proj = h.k_proj.repeat_interleave(q_heads / kv_heads, 0).contiguous();
  h.k_bias = at::zeros({kv_heads, bits}, at::kFloat);
  return h;
}

at::Tensor query_codes(const Hash& hash, const at::Tensor& q) {
  hash.check();
  if (q.dim() != 3 || q.size(1) != hash.q_proj.size(0) || q.size(2) != hash.q_proj.size(1))
    throw Error(msg("spotlight::query_codes: expected queries [N, ", hash.q_proj.size(0), ", ", hash.q_proj.size(1), "], got ", q.sizes()));
  return sign_pm1(project(q, hash.q_proj.to(q.device()), {}));
}

at::Tensor key_codes(const Hash& hash, const at::Tensor& k) {
  hash.check();
  if (k.dim() != 3 || k.size(1) != hash.k_proj.size(0) || k.size(2) != hash.k_proj.size(1))
    throw Error(msg("spotlight::key_codes: expected keys [S, ", hash.k_proj.size(0), ", ", hash.k_proj.size(1), "], got ", k.sizes()));
  return sign_pm1(project(k, hash.k_proj.to(k.device()), hash.k_bias.to(k.device())));
}

at::Tensor hamming_similarity(const Hash& hash, const at::Tensor& q_in, const at::Tensor& k) {
  const auto q = decode_query(q_in, "spotlight::hamming_similarity");
  const auto qc = query_codes(hash, q.unsqueeze(0))[0];                           // [Hq, bits]
  const auto kc = methods_detail::keys_per_query_head(key_codes(hash, k), q.size(0));  // [Hq, S, bits]
  // ±1 codes: matching bits = (bits + dot) / 2.
  return (at::bmm(kc, qc.unsqueeze(2)).squeeze(2) + static_cast<double>(hash.bits())) / 2.0;
}

int64_t kept_keys(int64_t seq_k, double pruning) {
  if (seq_k <= 0 || !(pruning >= 0.0 && pruning < 1.0))
    throw Error(msg("spotlight::kept_keys: needs seq_k > 0 and pruning in [0, 1), got ", seq_k, " and ", pruning));
  return std::min<int64_t>(seq_k, std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - pruning) * static_cast<double>(seq_k) - 1e-9))));
}

at::Tensor select(const Hash& hash, const at::Tensor& q, const at::Tensor& k, int64_t keep) {
  if (keep < 1 || keep > k.size(0)) throw Error(msg("spotlight::select: keep must be in [1, ", k.size(0), "], got ", keep));
  return top_keys(hamming_similarity(hash, q, k), keep);
}

at::Tensor top_keys(const at::Tensor& similarity, int64_t keep) {
  if (similarity.dim() != 2 || keep < 1 || keep > similarity.size(1))
    throw Error(msg("spotlight::top_keys: expected similarities [Hq, S] and keep in [1, S], got ", similarity.sizes(), " and ", keep));
  // Similarities are integers (many ties at 32 bits): ranked as similarity * S + position, ties
  // go to recent keys, deterministically and exactly at any length.
  const int64_t S = similarity.size(1);
  const auto rank = similarity.round().to(at::kLong) * S + at::arange(S, similarity.options().dtype(at::kLong)).unsqueeze(0);
  return std::get<0>(std::get<1>(rank.topk(keep, -1, /*largest=*/true, /*sorted=*/false)).sort(-1));
}

at::Tensor pack_codes(const at::Tensor& codes) {
  if (!codes.defined() || codes.dim() < 1 || codes.size(-1) < 1 || codes.size(-1) > 64)
    throw Error(msg("spotlight::pack_codes: expected codes [..., bits <= 64], got ", codes.defined() ? codes.sizes() : at::IntArrayRef{}));
  const int64_t bits = codes.size(-1), words = (bits + 31) / 32;
  auto b = codes.gt(0).to(at::kLong);
  if (words * 32 > bits) b = at::constant_pad_nd(b, {0, words * 32 - bits});
  std::vector<int64_t> shape(codes.sizes().begin(), codes.sizes().end());
  shape.back() = words;
  shape.push_back(32);
  const auto weights = at::pow(at::full({32}, 2, longs(codes.device())), at::arange(32, longs(codes.device())));
  const auto v = (b.view(shape) * weights).sum(-1);  // [0, 2^32)
  // The same 32 bits as int32 (two's complement).
  return (v - v.ge(int64_t{1} << 31).to(at::kLong) * (int64_t{1} << 32)).to(at::kInt);
}

namespace {

// [..., bits] projections -> packed codes, bit = x >= 0 (sign_pm1's +1).
at::Tensor pack_signs(const at::Tensor& x) {
#ifdef JENGA_CUDA_KERNELS
  if (x.is_cuda()) {
    const c10::cuda::CUDAGuard guard(x.device());
    const auto xc = x.to(at::kFloat).contiguous();
    const int64_t bits = x.size(-1);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = (bits + 31) / 32;
    auto out = at::empty(shape, x.options().dtype(at::kInt));
    kernels::check_cuda(kernels::pack_signs(xc.data_ptr<float>(), xc.numel() / bits, static_cast<int>(bits),
                                            reinterpret_cast<uint32_t*>(out.data_ptr<int32_t>()), kernels::current_stream()),
                        "spotlight: packing codes");
    return out;
  }
#endif
  return pack_codes(sign_pm1(x));
}

}  // namespace

at::Tensor packed_query_codes(const Hash& hash, const at::Tensor& q) {
  hash.check();
  if (q.dim() != 3 || q.size(1) != hash.q_proj.size(0) || q.size(2) != hash.q_proj.size(1))
    throw Error(msg("spotlight::packed_query_codes: expected queries [N, ", hash.q_proj.size(0), ", ", hash.q_proj.size(1), "], got ",
                    q.sizes()));
  return pack_signs(project(q, hash.q_proj.to(q.device()), {}));
}

at::Tensor packed_key_codes(const Hash& hash, const at::Tensor& k) {
  hash.check();
  if (k.dim() != 3 || k.size(1) != hash.k_proj.size(0) || k.size(2) != hash.k_proj.size(1))
    throw Error(msg("spotlight::packed_key_codes: expected keys [S, ", hash.k_proj.size(0), ", ", hash.k_proj.size(1), "], got ",
                    k.sizes()));
  return pack_signs(project(k, hash.k_proj.to(k.device()), hash.k_bias.to(k.device())));
}

at::Tensor select_packed(const at::Tensor& q_words, const at::Tensor& k_words, int64_t bits, int64_t keep) {
  if (q_words.dim() != 2 || k_words.dim() != 3 || q_words.size(1) != k_words.size(2) || q_words.scalar_type() != at::kInt ||
      k_words.scalar_type() != at::kInt || k_words.size(0) == 0 || q_words.size(0) % k_words.size(0) != 0)
    throw Error(msg("spotlight::select_packed: expected int32 query words [Hq, W] and key words [Hkv, S, W], Hkv dividing Hq; got ",
                    q_words.sizes(), " ", q_words.scalar_type(), " and ", k_words.sizes(), " ", k_words.scalar_type()));
  const int64_t Hq = q_words.size(0), Hkv = k_words.size(0), S = k_words.size(1), W = q_words.size(1);
  if (bits < 1 || bits > 32 * W || W > 2) throw Error(msg("spotlight::select_packed: ", bits, " bits do not fit ", W, " words (at most 2)"));
  if (keep < 1 || keep > S) throw Error(msg("spotlight::select_packed: keep must be in [1, ", S, "], got ", keep));
#ifdef JENGA_CUDA_KERNELS
  if (k_words.is_cuda()) {
    const c10::cuda::CUDAGuard guard(k_words.device());
    const auto q = q_words.to(k_words.device()).contiguous();
    const auto k = k_words.stride(2) == 1 ? k_words : k_words.contiguous();
    auto out = at::empty({Hq, keep}, longs(k.device()));
    kernels::HammingSelect p;
    p.q = reinterpret_cast<const uint32_t*>(q.data_ptr<int32_t>());
    p.k = reinterpret_cast<const uint32_t*>(k.data_ptr<int32_t>());
    p.head_stride = k.stride(0);
    p.key_stride = k.stride(1);
    p.q_heads = static_cast<int>(Hq);
    p.kv_heads = static_cast<int>(Hkv);
    p.words = static_cast<int>(W);
    p.bits = static_cast<int>(bits);
    p.seq_k = static_cast<int>(S);
    p.keep = static_cast<int>(keep);
    kernels::check_cuda(kernels::hamming_select(p, out.data_ptr<int64_t>(), kernels::current_stream()),
                        "spotlight::select_packed: kernel");
    return out;
  }
#endif
  // Shared bits = bits - popcount(q xor k), the popcount by unpacking (the reference path).
  const auto q = q_words.to(k_words.device()).view({Hkv, Hq / Hkv, 1, W}).to(at::kLong);
  const auto k = k_words.to(at::kLong).unsqueeze(1);  // [Hkv, 1, S, W]
  const auto x = at::bitwise_and(at::bitwise_xor(q, k), int64_t{0xffffffff});  // [Hkv, g, S, W]
  auto differ = at::zeros_like(x);
  for (int64_t j = 0; j < 32; ++j) differ += at::bitwise_and(at::bitwise_right_shift(x, j), 1);
  return top_keys((bits - differ.sum(-1)).reshape({Hq, S}), keep);
}

SparseLayout layout(const Hash& hash, const at::Tensor& q, const at::Tensor& k, double pruning, int64_t local_blocks,
                    int64_t block) {
  return decode_layout(select(hash, q, k, kept_keys(k.size(0), pruning)), k.size(0), local_blocks, block);
}

Hash train_hash(const at::Tensor& q_in, const at::Tensor& k_in, int64_t bits, const TrainOptions& options,
                std::vector<double>* losses) {
  methods_detail::check_qk(q_in, k_in, "spotlight::train_hash");
  const int64_t N = q_in.size(0), S = k_in.size(0), Hq = q_in.size(1), Hkv = k_in.size(1), D = q_in.size(2);
  if (options.top_k < 1 || options.top_k >= S - N + 1)
    throw Error(msg("spotlight::train_hash: top_k must be in [1, ", S - N, "] (the first query sees ", S - N + 1, " keys), got ",
                    options.top_k));
  if (options.steps < 0) throw Error(msg("spotlight::train_hash: steps must be >= 0, got ", options.steps));
  // Trains where the inputs are (a GPU's seconds, not a CPU's minutes); the hash comes back on the host.
  const auto q = q_in.to(at::kFloat), k = k_in.to(at::kFloat);
  const auto dev = q.device();
  // Positives: each (query, head)'s true top_k visible keys; negatives: the rest of the visible ones.
  at::Tensor top, neg_mask;  // int64 [N, Hq, top_k]; bool [N, Hq, S]
  {
    at::NoGradGuard no_grad;
    const auto kk = methods_detail::keys_per_query_head(k, Hq);           // [Hq, S, D]
    auto dots = at::einsum("nhd,hsd->nhs", {q, kk});                       // [N, Hq, S]
    const auto visible = at::arange(S, longs(dev)).view({1, -1}).le(at::arange(S - N, S, longs(dev)).view({-1, 1})).unsqueeze(1);
    dots.masked_fill_(visible.logical_not(), -std::numeric_limits<float>::infinity());
    top = std::get<1>(dots.topk(options.top_k, -1));
    const auto pos_mask = at::zeros_like(dots, at::kBool).scatter_(2, top, true);
    neg_mask = visible.expand_as(pos_mask).logical_and(pos_mask.logical_not());
  }
  const auto init = random_hash(Hq, Hkv, D, bits, options.seed);
  auto wq = init.q_proj.to(dev).requires_grad_(true);
  auto wk = init.k_proj.to(dev).requires_grad_(true);
  auto ck = init.k_bias.to(dev).requires_grad_(true);
  torch::optim::AdamW opt({wq, wk, ck}, torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));
  // Scale the projections so tanh starts in its informative range whatever the input norms.
  const double qs = 1.0 / std::max(1e-6, q.norm(2, -1).mean().item<double>());
  const double ks = 1.0 / std::max(1e-6, k.norm(2, -1).mean().item<double>());
  const auto negf = neg_mask.to(at::kFloat).unsqueeze(2);  // [N, Hq, 1, S]
  const auto pairs = (negf.sum(-1) * static_cast<double>(options.top_k)).sum().clamp_min(1);
  for (int64_t step = 0; step < options.steps; ++step) {
    opt.zero_grad();
    const auto qc = at::tanh(project(q * qs, wq, {}));                                       // [N, Hq, bits]
    const auto kc = methods_detail::keys_per_query_head(at::tanh(project(k * ks, wk, ck)), Hq);  // [Hq, S, bits] (differentiable)
    const auto sim = at::einsum("nhb,hsb->nhs", {qc, kc}) / static_cast<double>(bits);     // [N, Hq, S]
    // Pairwise logistic loss over (positive, negative) pairs of each (query, head).
    const auto sp = sim.gather(2, top).unsqueeze(3);  // [N, Hq, top_k, 1]
    const auto sn = sim.unsqueeze(2);                 // [N, Hq, 1, S]
    const auto loss = (at::softplus((sn - sp) * options.gamma) * negf).sum() / pairs;
    loss.backward();
    opt.step();
    if (losses) losses->push_back(loss.item<double>());
  }
  Hash h;
  at::NoGradGuard no_grad;
  h.q_proj = (wq.detach() * qs).cpu().contiguous();
  h.k_proj = (wk.detach() * ks).cpu().contiguous();
  h.k_bias = ck.detach().cpu().contiguous();
  return h;
}

void save_hashes(const std::string& path, const std::map<int64_t, Hash>& layers) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [layer, h] : layers) {
    try {
      h.check();
    } catch (const Error& e) {
      throw Error(msg(path, ": layer ", layer, ": ", e.what()));
    }
    const std::string prefix = msg("layers.", layer, ".");
    tensors[prefix + "q_proj"] = h.q_proj.to(at::kFloat);
    tensors[prefix + "k_proj"] = h.k_proj.to(at::kFloat);
    tensors[prefix + "k_bias"] = h.k_bias.to(at::kFloat);
  }
  save_safetensors(path, tensors, {{"format", "jenga spotlight hashes"}});
}

std::map<int64_t, Hash> load_hashes(const std::string& path) {
  const SafetensorsFile file(path);
  std::set<int64_t> layers;
  for (const auto& name : file.names()) {
    const auto dot = name.find('.', 7);
    if (name.rfind("layers.", 0) != 0 || dot == std::string::npos)
      throw Error(msg(path, ": unexpected tensor \"", name, "\" (expected layers.<l>.q_proj / k_proj / k_bias)"));
    try {
      layers.insert(std::stoll(name.substr(7, dot - 7)));
    } catch (const std::exception&) {
      throw Error(msg(path, ": tensor \"", name, "\" has no layer number"));
    }
  }
  std::map<int64_t, Hash> out;
  for (const int64_t l : layers) {
    const std::string prefix = msg("layers.", l, ".");
    Hash h;
    for (const auto& [part, dst] : {std::pair<const char*, at::Tensor*>{"q_proj", &h.q_proj}, {"k_proj", &h.k_proj}, {"k_bias", &h.k_bias}}) {
      if (!file.contains(prefix + part)) throw Error(msg(path, ": layer ", l, " has no ", prefix + part));
      *dst = file.load(prefix + part, torch::kCPU, torch::kFloat);
    }
    try {
      h.check();
    } catch (const Error& e) {
      throw Error(msg(path, ": layer ", l, ": ", e.what()));
    }
    out[l] = h;
  }
  return out;
}

}  // namespace jenga::core::spotlight
