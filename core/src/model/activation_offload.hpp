// Checkpointed layers' inputs kept in host memory between forward and backward (Jenga's offload
// extension). On CUDA the copies run on a side stream into pinned buffers, overlapped with the
// layers' compute, and backward prefetches the next layer's input while the current one recomputes.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>

namespace jenga::core {

class ActivationOffload {
 public:
  ActivationOffload();
  ~ActivationOffload();
  ActivationOffload(const ActivationOffload&) = delete;
  ActivationOffload& operator=(const ActivationOffload&) = delete;

  // Starts copying layer `layer`'s input x to host memory (replacing any earlier copy for it).
  void store(int64_t layer, const torch::Tensor& x);
  // Starts bringing a stored input back to its device ahead of need; no-op if absent or on CPU.
  void prefetch(int64_t layer);
  // The stored input on its original device (and drops the host copy); Error if none is stored.
  torch::Tensor load(int64_t layer);
  // Bytes held in host memory now.
  int64_t host_bytes() const;

 private:
  struct Slot;
  std::map<int64_t, std::unique_ptr<Slot>> slots_;
  struct Streams;
  std::unique_ptr<Streams> streams_;  // CUDA side stream, created on first use
};

}  // namespace jenga::core
