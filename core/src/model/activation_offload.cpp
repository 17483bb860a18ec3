#include "model/activation_offload.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#ifdef JENGA_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif


namespace jenga::core {

struct ActivationOffload::Slot {
  at::Tensor host;            // the stored copy
  at::Device device{at::kCPU};
  at::Tensor prefetched;      // on `device`, when a prefetch was started
#ifdef JENGA_TORCH_CUDA
  at::cuda::CUDAEvent copied;  // the prefetch's copy finished (on the side stream)
#endif
};

struct ActivationOffload::Streams {
#ifdef JENGA_TORCH_CUDA
  explicit Streams(c10::DeviceIndex index) : side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}
  c10::cuda::CUDAStream side;
#endif
};

ActivationOffload::ActivationOffload() = default;
ActivationOffload::~ActivationOffload() = default;

void ActivationOffload::store(int64_t layer, const torch::Tensor& x) {
  auto slot = std::make_unique<Slot>();
  slot->device = x.device();
  if (!x.is_cuda()) {
    slot->host = x.detach().clone();
    slots_[layer] = std::move(slot);
    return;
  }
#ifdef JENGA_TORCH_CUDA
  if (!streams_) streams_ = std::make_unique<Streams>(x.device().index());
  const c10::cuda::CUDAGuard guard(x.device());
  auto& side = streams_->side;
  // The side stream copies only once the compute stream has produced x; the allocator must not
  // hand x's memory out again before that copy has read it.
  at::cuda::CUDAEvent produced;
  produced.record(c10::cuda::getCurrentCUDAStream());
  produced.block(side);
  {
    const c10::cuda::CUDAStreamGuard on_side(side);
    slot->host = at::empty(x.sizes(), x.options().device(at::kCPU).pinned_memory(true));
    slot->host.copy_(x.detach(), /*non_blocking=*/true);
  }
  c10::cuda::CUDACachingAllocator::recordStream(x.storage().data_ptr(), side);
#else
  throw Error(msg("activation offload: CUDA tensor ", x.sizes(), " but LibTorch has no CUDA"));
#endif
  slots_[layer] = std::move(slot);
}

void ActivationOffload::prefetch(int64_t layer) {
  const auto it = slots_.find(layer);
  if (it == slots_.end() || !it->second->device.is_cuda() || it->second->prefetched.defined()) return;
#ifdef JENGA_TORCH_CUDA
  Slot& s = *it->second;
  const c10::cuda::CUDAGuard guard(s.device);
  // Issued behind whatever the compute stream has queued so far, so the buffer it allocates on
  // the side stream is never one the compute stream still uses.
  at::cuda::CUDAEvent queued;
  queued.record(c10::cuda::getCurrentCUDAStream());
  queued.block(streams_->side);
  const c10::cuda::CUDAStreamGuard on_side(streams_->side);
  s.prefetched = at::empty(s.host.sizes(), s.host.options().device(s.device));
  s.prefetched.copy_(s.host, /*non_blocking=*/true);
  s.copied.record(streams_->side);
#endif
}

torch::Tensor ActivationOffload::load(int64_t layer) {
  const auto it = slots_.find(layer);
  if (it == slots_.end()) throw Error(msg("activation offload: no stored input for layer ", layer));
  std::unique_ptr<Slot> s = std::move(it->second);
  slots_.erase(it);
  if (!s->device.is_cuda()) return s->host;
#ifdef JENGA_TORCH_CUDA
  const c10::cuda::CUDAGuard guard(s->device);
  auto current = c10::cuda::getCurrentCUDAStream();
  if (s->prefetched.defined()) {
    s->copied.block(current);
    // Made on the side stream, used and freed on the compute stream from here on.
    c10::cuda::CUDACachingAllocator::recordStream(s->prefetched.storage().data_ptr(), current);
    return s->prefetched;
  }
  return s->host.to(s->device, /*non_blocking=*/true);
#else
  throw Error(msg("activation offload: layer ", layer, " was stored from a CUDA device but LibTorch has no CUDA"));
#endif
}

int64_t ActivationOffload::host_bytes() const {
  int64_t n = 0;
  for (const auto& [layer, s] : slots_) n += s->host.numel() * static_cast<int64_t>(s->host.element_size());
  return n;
}

}  // namespace jenga::core
