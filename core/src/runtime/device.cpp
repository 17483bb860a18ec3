#include "jenga/core/runtime/device.hpp"

#include "jenga/core/error.hpp"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdlib>
#include <regex>

#ifdef JENGA_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace jenga::core {

torch::Device select_device(const std::string& spec) {
  const bool have_cuda = torch::cuda::is_available();
  if (spec == "auto") return have_cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  static const std::regex cuda_re("cuda(?::([0-9]+))?");
  std::smatch m;
  if (std::regex_match(spec, m, cuda_re)) {
    if (!have_cuda) throw Error(msg("device '", spec, "' requested but CUDA is not available (LibTorch built without CUDA, or no GPU visible)"));
    const int index = m[1].matched ? std::stoi(m[1].str()) : 0;
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw Error(msg("device '", spec, "': only ", torch::cuda::device_count(), " CUDA device(s) visible"));
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error(msg("device '", spec, "': expected auto, cpu, cuda or cuda:N"));
}

std::optional<double> apply_memory_cap_from_env(const torch::Device& device) {
  const char* cap = std::getenv("JENGA_MEMORY_CAP_GIB");
  if (cap == nullptr || *cap == '\0' || !device.is_cuda()) return std::nullopt;
  char* end = nullptr;
  const double gib = std::strtod(cap, &end);
  if (end == cap || *end != '\0' || !(gib > 0)) throw Error(msg("JENGA_MEMORY_CAP_GIB='", cap, "': expected a positive number of GiB"));
#ifdef JENGA_TORCH_CUDA
  size_t free_b = 0, total_b = 0;
  c10::cuda::CUDAGuard guard(device.index());
  // The caching allocator refuses a fraction before its first allocation on the device.
  (void)torch::empty({1}, torch::TensorOptions().device(device));
  C10_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const double fraction = gib * 1024.0 * 1024.0 * 1024.0 / static_cast<double>(total_b);
  if (fraction >= 1.0) return std::nullopt;  // the card is no larger than the cap
  c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, device.index());
  return gib;
#else
  return std::nullopt;
#endif
}

void set_current_device(const torch::Device& device) {
#ifdef JENGA_TORCH_CUDA
  if (device.is_cuda()) c10::cuda::set_device(static_cast<c10::DeviceIndex>(device.index() < 0 ? 0 : device.index()));
#else
  (void)device;
#endif
}

int cuda_device_count() {
#ifdef JENGA_TORCH_CUDA
  return static_cast<int>(c10::cuda::device_count());
#else
  return 0;
#endif
}

MemoryStats memory_stats(const torch::Device& device) {
  MemoryStats s;
#ifdef JENGA_TORCH_CUDA
  if (device.is_cuda()) {
    const auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    // StatType moved namespaces between 1.13 and 2.x; AGGREGATE is its first enumerator in both.
    constexpr size_t agg = 0;
    constexpr double mib = 1024.0 * 1024.0;
    s.allocated = st.allocated_bytes[agg].current / mib;
    s.peak_allocated = st.allocated_bytes[agg].peak / mib;
    s.reserved = st.reserved_bytes[agg].current / mib;
    s.peak_reserved = st.reserved_bytes[agg].peak / mib;
  }
#endif
  return s;
}

void reset_peak_memory(const torch::Device& device) {
#ifdef JENGA_TORCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

void synchronize(const torch::Device& device) {
#ifdef JENGA_TORCH_CUDA
  if (device.is_cuda()) c10::cuda::getCurrentCUDAStream(device.index()).synchronize();
#endif
}

}  // namespace jenga::core
