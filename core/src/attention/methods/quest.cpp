// Quest's page bounds and decode-time page selection (quest.hpp).
#include "jenga/core/attention/quest.hpp"

#include "attention/methods/internal.hpp"
#include "jenga/core/attention/selection.hpp"

#include <algorithm>
#include <limits>

#ifdef JENGA_CUDA_KERNELS
#include "attention/quest_select.cuh"
#include "kernels/torch_bridge.hpp"

#include <c10/cuda/CUDAGuard.h>
#endif

namespace jenga::core::quest {

using methods_detail::decode_query;
using methods_detail::longs;

PageBounds page_bounds(const at::Tensor& k, int64_t page_size) {
  if (!k.defined() || k.dim() != 3 || k.size(0) == 0 || !at::isFloatingType(k.scalar_type()))
    throw Error(msg("quest::page_bounds: expected float keys [S, Hkv, D], got ", k.defined() ? k.sizes() : at::IntArrayRef{}));
  if (page_size <= 0) throw Error(msg("quest::page_bounds: page_size must be positive, got ", page_size));
  PageBounds b;
  b.page_size = page_size;
  b.seq_k = k.size(0);
  const int64_t S = k.size(0), P = b.pages(), pad = P * page_size - S;
  const auto kk = k.to(at::kFloat).permute({1, 0, 2});  // [Hkv, S, D]
  // Pad the ragged last page with copies of its last key: they change neither its min nor max.
  const auto padded = pad > 0 ? at::cat({kk, kk.narrow(1, S - 1, 1).expand({kk.size(0), pad, kk.size(2)})}, 1) : kk;
  const auto pages = padded.reshape({kk.size(0), P, page_size, kk.size(2)});
  b.min = std::get<0>(pages.min(2));
  b.max = std::get<0>(pages.max(2));
  return b;
}

void append_keys(PageBounds& b, const at::Tensor& k_new) {
  if (!b.min.defined() || k_new.dim() != 3 || k_new.size(1) != b.min.size(0) || k_new.size(2) != b.min.size(2))
    throw Error(msg("quest::append_keys: keys ", k_new.sizes(), " do not fit page bounds [Hkv, pages, D] ",
                    b.min.defined() ? b.min.sizes() : at::IntArrayRef{}));
  if (k_new.size(0) == 0) return;
  const int64_t used = b.seq_k % b.page_size;  // keys already in the ragged last page (0: it is full)
  const int64_t fill = used == 0 ? 0 : std::min(b.page_size - used, k_new.size(0));
  const auto kn = k_new.to(b.min.device());
  if (fill > 0) {
    const auto head = kn.narrow(0, 0, fill).to(at::kFloat).permute({1, 0, 2});  // [Hkv, fill, D]
    auto last_min = b.min.narrow(1, b.pages() - 1, 1), last_max = b.max.narrow(1, b.pages() - 1, 1);
    last_min.copy_(at::minimum(last_min, std::get<0>(head.min(1, true))));
    last_max.copy_(at::maximum(last_max, std::get<0>(head.max(1, true))));
    b.seq_k += fill;
  }
  if (fill == k_new.size(0)) return;
  const auto rest = page_bounds(kn.narrow(0, fill, k_new.size(0) - fill), b.page_size);
  b.min = at::cat({b.min, rest.min}, 1);
  b.max = at::cat({b.max, rest.max}, 1);
  b.seq_k += rest.seq_k;
}

at::Tensor upper_bounds(const at::Tensor& q_in, const PageBounds& bounds) {
  const auto q = decode_query(q_in, "quest::upper_bounds").to(at::kFloat);
  if (!bounds.min.defined() || bounds.min.dim() != 3 || q.size(1) != bounds.min.size(2) || q.size(0) % bounds.min.size(0) != 0)
    throw Error(msg("quest::upper_bounds: query ", q_in.sizes(), " does not fit page bounds [Hkv, pages, D] ",
                    bounds.min.defined() ? bounds.min.sizes() : at::IntArrayRef{}));
  // max(q_d lo_d, q_d hi_d) is q_d hi_d where q_d >= 0, else q_d lo_d (lo <= hi): two batched
  // products over the bounds as stored, not a [Hq, pages, D] temporary per step.
  const int64_t hkv = bounds.min.size(0), D = q.size(1);
  const auto qg = q.view({hkv, q.size(0) / hkv, D});
  const auto ub = at::matmul(qg.clamp_min(0), bounds.max.transpose(1, 2)) + at::matmul(qg.clamp_max(0), bounds.min.transpose(1, 2));
  return ub.reshape({q.size(0), bounds.pages()});
}

at::Tensor select_pages(const at::Tensor& q, const PageBounds& bounds, int64_t top_pages) {
  if (top_pages < 1) throw Error(msg("quest::select_pages: top_pages must be >= 1, got ", top_pages));
  auto ub = upper_bounds(q, bounds);
  const int64_t P = bounds.pages(), n = std::min(top_pages, P);
  ub.narrow(1, P - 1, 1).fill_(std::numeric_limits<float>::infinity());  // the newest page always
  return std::get<0>(std::get<1>(ub.topk(n, -1, /*largest=*/true, /*sorted=*/false)).sort(-1));
}

at::Tensor select_keys(const at::Tensor& q, const PageBounds& bounds, int64_t top_pages) {
  if (top_pages < 1) throw Error(msg("quest::select_keys: top_pages must be >= 1, got ", top_pages));
  const int64_t P = bounds.pages(), ps = bounds.page_size, S = bounds.seq_k, n = std::min(top_pages, P);
#ifdef JENGA_CUDA_KERNELS
  if (bounds.min.defined() && bounds.min.is_cuda()) {
    const c10::cuda::CUDAGuard guard(bounds.min.device());
    const auto ub = upper_bounds(q, bounds).contiguous();
    kernels::QuestSelect p;
    p.scores = ub.data_ptr<float>();
    p.q_heads = static_cast<int>(ub.size(0));
    p.pages = static_cast<int>(P);
    p.pages_kept = static_cast<int>(n);
    p.page_size = static_cast<int>(ps);
    p.seq_k = static_cast<int>(S);
    auto out = at::empty({ub.size(0), kernels::quest_keys_per_row(p)}, ub.options().dtype(at::kLong));
    kernels::check_cuda(kernels::quest_select_keys(p, out.data_ptr<int64_t>(), kernels::current_stream()), "quest::select_keys: kernel");
    return out;
  }
#endif
  const auto pages = select_pages(q, bounds, n);  // [Hq, n] ascending, the newest last
  const auto keys = (pages.unsqueeze(2) * ps + at::arange(ps, longs(pages.device())).view({1, 1, -1})).flatten(1);
  // Only the newest page, every row's last, can pass S: cutting the same tail keeps rows whole.
  return keys.narrow(1, 0, keys.size(1) - (P * ps - S));
}

SparseLayout layout(const at::Tensor& q_in, const at::Tensor& k, const Options& options) {
  const auto q = decode_query(q_in, "quest::layout");
  methods_detail::check_qk(q.unsqueeze(0), k, "quest::layout");
  if (options.block <= 0 || options.token_budget <= 0)
    throw Error(msg("quest::layout: block and token_budget must be positive, got ", options.block, " and ", options.token_budget));
  const auto bounds = page_bounds(k, options.page_size);
  const int64_t S = k.size(0), Hq = q.size(0), ps = options.page_size, top = std::max<int64_t>(1, options.token_budget / ps);
  if (ps % options.block == 0) {
    const auto pages = select_pages(q, bounds, top);  // [Hq, n]
    // Each page is ps / block whole key blocks.
    const auto shape = methods_detail::make_shape(Hq, 1, S, options.block, options.block);
    const int64_t per = ps / options.block;
    const auto blocks = (pages.unsqueeze(2) * per + at::arange(per, longs(pages.device())).view({1, 1, -1})).reshape({Hq, -1});
    auto mask = at::zeros({Hq, shape.k_blocks() + 1}, at::TensorOptions().dtype(at::kBool).device(pages.device()));
    mask.scatter_(1, blocks.clamp_max(shape.k_blocks()), true);  // blocks past the end (ragged last page) land in the cut slot
    return layout_from_block_mask(mask.narrow(1, 0, shape.k_blocks()).unsqueeze(1).contiguous(), shape);
  }
  // Every key of the selected pages as a column.
  return columns_layout(select_keys(q, bounds, top), S, options.block);
}

}  // namespace jenga::core::quest
