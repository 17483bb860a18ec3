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

// One point of the optional allocation timeline: what the allocator held when the step reached
// `label` (e.g. "forward/layer 3"), at t_ms since the step began (device time on CUDA).
struct TimelinePoint {
  std::string label;
  double t_ms = 0;
  double allocated_mib = 0;
};

class StepProfiler {
 public:
  explicit StepProfiler(torch::Device device);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;

  void begin_step();                       // resets the allocator peak, marks t0
  void end_phase(const std::string& name); // marks the end of a phase, records memory
  // A timeline point (cheap: one event record and an allocator read, no sync).
  void mark(const std::string& label);
  // Waits for the device and returns phase -> ms, in the order phases ended.
  std::vector<std::pair<std::string, double>> phase_ms();
  // Memory after each phase (MiB) and the step's peak.
  const std::vector<std::pair<std::string, MemoryStats>>& phase_memory() const { return memory_; }
  MemoryStats step_peak() const;
  // The marks of this step, timed (call after phase_ms(), which synchronises).
  std::vector<TimelinePoint> timeline() const;

 private:
  struct Impl;
  torch::Device device_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::pair<std::string, MemoryStats>> memory_;
};

}  // namespace jenga::core
