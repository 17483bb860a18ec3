// Where a worker computes, and what the device allocator says about memory.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace jenga::core {

// Parses "auto" (CUDA if present, else CPU), "cpu", "cuda", "cuda:N". Error on anything else
// or on a CUDA request in a build/machine without CUDA.
torch::Device select_device(const std::string& spec);

// Applies JENGA_MEMORY_CAP_GIB (set by the harness for a smaller-card stand-in) to the CUDA
// caching allocator of `device`: allocations beyond the cap fail as an out-of-memory would.
// Returns the cap applied, if any. No effect on CPU.
std::optional<double> apply_memory_cap_from_env(const torch::Device& device);

// Allocator statistics in MiB (CUDA caching allocator; zeros on CPU).
struct MemoryStats {
  double allocated = 0, peak_allocated = 0, reserved = 0, peak_reserved = 0;
};
MemoryStats memory_stats(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

// Makes `device` the calling thread's current CUDA device, which our own kernels launch on
// (a data-parallel rank's thread calls it first). No-op on CPU.
void set_current_device(const torch::Device& device);

// Number of CUDA devices visible to this process (0 without CUDA).
int cuda_device_count();

// Blocks until queued device work is done (no-op on CPU).
void synchronize(const torch::Device& device);

}  // namespace jenga::core
