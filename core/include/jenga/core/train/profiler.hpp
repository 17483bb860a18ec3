// Per-step phase timing and memory accounting. On CUDA, phases are timed with CUDA events on
// the current stream (no host stalls inside the step); allocator stats are read at each phase
// boundary and the peak is reset at the start of every step. On CPU, wall clock after the work.
#pragma once

#include "jenga/core/runtime/device.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace jenga::core {

class StepProfiler {
 public:
  explicit StepProfiler(torch::Device device);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;

  void begin_step();                       // resets the allocator peak, marks t0
  void end_phase(const std::string& name); // marks the end of a phase, records memory
  // Waits for the device and returns phase -> ms, in the order phases ended.
  std::vector<std::pair<std::string, double>> phase_ms();
  // Memory after each phase (MiB) and the step's peak.
  const std::vector<std::pair<std::string, MemoryStats>>& phase_memory() const { return memory_; }
  MemoryStats step_peak() const;

 private:
  struct Impl;
  torch::Device device_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::pair<std::string, MemoryStats>> memory_;
};

}  // namespace jenga::core
