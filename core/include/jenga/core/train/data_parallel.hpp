// Data parallelism inside one process: N model replicas, one per device, each stepped by its own
// thread on its own sequence; after backward, GradAllReduce leaves every replica with the mean
// gradient, so the replicas take identical optimizer steps (the artifact's DeepSpeed runs with
// batch 1 per GPU, without the launcher). Gradients are small (LoRA), so they go through rank 0.
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <functional>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "jenga/core/error.hpp"

namespace jenga::core {

// What a rank's average() throws when another rank failed (the failure itself is reported).
class RankAborted : public Error {
 public:
  using Error::Error;
};

class GradAllReduce {
 public:
  explicit GradAllReduce(int ranks);
  int ranks() const { return ranks_; }
  // Called once per step by every rank with its trainable parameters (same order on every
  // rank); returns when each parameter's grad holds the mean over ranks (missing grads count as
  // zeros). Error if another rank aborted, or shapes differ between ranks.
  void average(int rank, const std::vector<torch::Tensor>& params);
  // A failing rank calls this so the others stop waiting (their average() throws).
  void abort();

 private:
  void barrier(std::unique_lock<std::mutex>& lock);
  const int ranks_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  long generation_ = 0;
  bool aborted_ = false;
  std::vector<torch::Tensor> flat_;  // per rank: its gradients, flattened fp32
  torch::Tensor mean_;               // on rank 0's device
};

// Threads for ranks 1..n-1 that live as long as the pool (rank 0 runs on the caller's thread):
// what libraries cache per thread (cuBLAS handles and workspaces, the current device) is made
// once, not every step. run() has run_ranks' contract.
class RankPool {
 public:
  RankPool(int n, GradAllReduce* sync);
  ~RankPool();
  RankPool(const RankPool&) = delete;
  RankPool& operator=(const RankPool&) = delete;
  void run(const std::function<void(int rank)>& fn);
  int size() const { return n_; }

 private:
  void loop(int rank);
  void call(int rank);
  const int n_;
  GradAllReduce* sync_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  long generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_, aborted_;
  std::vector<std::thread> threads_;
};

// Runs fn(rank) for ranks 0..n-1, rank 0 on the calling thread and the others on their own;
// when one throws, `sync` (if any) is aborted so no rank waits forever, and after every thread
// has finished the lowest rank's real failure is rethrown (RankAborted only if nothing else).
void run_ranks(int n, GradAllReduce* sync, const std::function<void(int rank)>& fn);

}  // namespace jenga::core
