#include "jenga/core/train/profiler.hpp"

#include "jenga/core/error.hpp"

#include <chrono>

#ifdef JENGA_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace jenga::core {

#ifdef JENGA_TORCH_CUDA
namespace {
void cuda_check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw Error(msg("profiler: ", what, " failed: ", cudaGetErrorString(rc)));
}
}  // namespace
#endif

struct StepProfiler::Impl {
  std::vector<std::string> names;
  std::vector<std::chrono::steady_clock::time_point> host;  // CPU timestamps (t0 first)
  struct Mark {
    std::string label;
    double allocated_mib;
    std::chrono::steady_clock::time_point host;
    bool phase_end = false;
#ifdef JENGA_TORCH_CUDA
    size_t event = 0;  // index into events
#endif
  };
  std::vector<Mark> marks;
  std::chrono::steady_clock::time_point t0;
#ifdef JENGA_TORCH_CUDA
  std::vector<cudaEvent_t> events;  // CUDA events (t0 first); pooled across steps
  size_t used = 0;
  cudaEvent_t next() {
    if (used == events.size()) {
      cudaEvent_t e;
      cuda_check(cudaEventCreate(&e), "cudaEventCreate");
      events.push_back(e);
    }
    return events[used++];
  }
#endif
};

StepProfiler::StepProfiler(torch::Device device) : device_(device), impl_(std::make_unique<Impl>()) {}

StepProfiler::~StepProfiler() {
#ifdef JENGA_TORCH_CUDA
  for (auto e : impl_->events) cudaEventDestroy(e);  // nothing useful to do on failure in a destructor
#endif
}

void StepProfiler::begin_step() {
  impl_->names.clear();
  impl_->host.clear();
  impl_->marks.clear();
  memory_.clear();
  reset_peak_memory(device_);
  impl_->t0 = std::chrono::steady_clock::now();
#ifdef JENGA_TORCH_CUDA
  if (device_.is_cuda()) {
    impl_->used = 0;
    cuda_check(cudaEventRecord(impl_->next(), c10::cuda::getCurrentCUDAStream(device_.index()).stream()), "cudaEventRecord");
    return;
  }
#endif
  impl_->host.push_back(std::chrono::steady_clock::now());
}

void StepProfiler::end_phase(const std::string& name) {
  impl_->names.push_back(name);
  mark(name + " end");
  impl_->marks.back().phase_end = true;
#ifdef JENGA_TORCH_CUDA
  if (device_.is_cuda()) {
    // The phase boundary is the event the mark just recorded.
    memory_.emplace_back(name, memory_stats(device_));
    return;
  }
#endif
  impl_->host.push_back(std::chrono::steady_clock::now());
  memory_.emplace_back(name, memory_stats(device_));
}

void StepProfiler::mark(const std::string& label) {
  Impl::Mark m{label, memory_stats(device_).allocated, std::chrono::steady_clock::now(), false};
#ifdef JENGA_TORCH_CUDA
  if (device_.is_cuda()) {
    m.event = impl_->used;
    cuda_check(cudaEventRecord(impl_->next(), c10::cuda::getCurrentCUDAStream(device_.index()).stream()), "cudaEventRecord");
  }
#endif
  impl_->marks.push_back(std::move(m));
}

std::vector<TimelinePoint> StepProfiler::timeline() const {
  std::vector<TimelinePoint> out;
  for (const auto& m : impl_->marks) {
    double t = std::chrono::duration<double, std::milli>(m.host - impl_->t0).count();
#ifdef JENGA_TORCH_CUDA
    if (device_.is_cuda()) {
      float ms = 0;
      cuda_check(cudaEventElapsedTime(&ms, impl_->events[0], impl_->events[m.event]), "cudaEventElapsedTime");
      t = ms;
    }
#endif
    out.push_back({m.label, t, m.allocated_mib});
  }
  return out;
}

std::vector<std::pair<std::string, double>> StepProfiler::phase_ms() {
  std::vector<std::pair<std::string, double>> out;
#ifdef JENGA_TORCH_CUDA
  if (device_.is_cuda()) {
    cuda_check(cudaEventSynchronize(impl_->events[impl_->used - 1]), "cudaEventSynchronize");
    // Phase i ends at the event of the mark "<phase> end"; the step starts at event 0.
    size_t prev = 0;
    for (const auto& m : impl_->marks) {
      if (!m.phase_end) continue;
      float ms = 0;
      cuda_check(cudaEventElapsedTime(&ms, impl_->events[prev], impl_->events[m.event]), "cudaEventElapsedTime");
      out.emplace_back(m.label.substr(0, m.label.size() - 4), ms);
      prev = m.event;
    }
    return out;
  }
#endif
  for (size_t i = 0; i < impl_->names.size(); ++i)
    out.emplace_back(impl_->names[i], std::chrono::duration<double, std::milli>(impl_->host[i + 1] - impl_->host[i]).count());
  return out;
}

MemoryStats StepProfiler::step_peak() const { return memory_stats(device_); }

}  // namespace jenga::core
