#include "jenga/core/train/data_parallel.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>

#include <exception>
#include <thread>

namespace jenga::core {

GradAllReduce::GradAllReduce(int ranks) : ranks_(ranks), flat_(static_cast<size_t>(std::max(ranks, 1))) {
  if (ranks < 1) throw Error(msg("GradAllReduce: ranks must be >= 1, got ", ranks));
}

void GradAllReduce::barrier(std::unique_lock<std::mutex>& lock) {
  if (aborted_) throw RankAborted("GradAllReduce: another rank failed");
  const long gen = generation_;
  if (++arrived_ == ranks_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  cv_.wait(lock, [&] { return generation_ != gen || aborted_; });
  if (generation_ == gen) throw RankAborted("GradAllReduce: another rank failed");
}

void GradAllReduce::abort() {
  std::lock_guard<std::mutex> lock(mu_);
  aborted_ = true;
  cv_.notify_all();
}

void GradAllReduce::average(int rank, const std::vector<torch::Tensor>& params) {
  if (rank < 0 || rank >= ranks_) throw Error(msg("GradAllReduce: rank ", rank, " outside [0, ", ranks_, ")"));
  if (ranks_ == 1) return;
  std::vector<at::Tensor> pieces;
  pieces.reserve(params.size());
  for (const auto& p : params) {
    const auto& g = p.grad();
    pieces.push_back(g.defined() ? g.detach().to(at::kFloat).reshape(-1) : at::zeros({p.numel()}, p.options().dtype(at::kFloat)));
  }
  at::Tensor mine = pieces.empty() ? at::zeros({0}) : at::cat(pieces);

  std::unique_lock<std::mutex> lock(mu_);
  flat_[static_cast<size_t>(rank)] = mine;
  barrier(lock);
  if (rank == 0) {
    auto sum = mine.clone();
    for (int r = 1; r < ranks_; ++r) {
      const auto& other = flat_[static_cast<size_t>(r)];
      if (other.numel() != sum.numel()) {
        aborted_ = true;
        cv_.notify_all();
        throw Error(msg("GradAllReduce: rank ", r, " has ", other.numel(), " gradient values, rank 0 has ", sum.numel()));
      }
      lock.unlock();  // the copy between devices may take a while; nobody touches flat_ now
      sum.add_(other.to(sum.device()));
      lock.lock();
    }
    mean_ = sum.div_(static_cast<double>(ranks_));
  }
  barrier(lock);
  const at::Tensor mean = mean_;
  lock.unlock();
  const auto local = mean.to(mine.device());
  int64_t offset = 0;
  for (const auto& p : params) {
    const int64_t n = p.numel();
    const auto slice = local.narrow(0, offset, n).view(p.sizes()).to(p.scalar_type());
    if (p.grad().defined())
      p.mutable_grad().copy_(slice);
    else
      p.mutable_grad() = slice.clone();
    offset += n;
  }
  lock.lock();
  barrier(lock);  // rank 0 may replace mean_ only after every rank has read it
  flat_[static_cast<size_t>(rank)] = at::Tensor();
}

RankPool::RankPool(int n, GradAllReduce* sync)
    : n_(n), sync_(sync), errors_(static_cast<size_t>(std::max(n, 1))), aborted_(static_cast<size_t>(std::max(n, 1))) {
  if (n < 1) throw Error(msg("RankPool: need at least one rank, got ", n));
  for (int r = 1; r < n; ++r) threads_.emplace_back([this, r] { loop(r); });
}

RankPool::~RankPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void RankPool::call(int rank) {
  try {
    (*fn_)(rank);
  } catch (const RankAborted&) {
    aborted_[static_cast<size_t>(rank)] = std::current_exception();
  } catch (...) {
    errors_[static_cast<size_t>(rank)] = std::current_exception();
    if (sync_) sync_->abort();
  }
}

void RankPool::loop(int rank) {
  long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    call(rank);
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) done_cv_.notify_all();
  }
}

void RankPool::run(const std::function<void(int rank)>& fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    for (auto& e : errors_) e = nullptr;
    for (auto& e : aborted_) e = nullptr;
    pending_ = n_ - 1;
    ++generation_;
  }
  work_cv_.notify_all();
  call(0);
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    fn_ = nullptr;
  }
  for (const auto& e : errors_)
    if (e) std::rethrow_exception(e);
  for (const auto& e : aborted_)
    if (e) std::rethrow_exception(e);
}

void run_ranks(int n, GradAllReduce* sync, const std::function<void(int rank)>& fn) {
  RankPool pool(n, sync);
  pool.run(fn);
}

}  // namespace jenga::core
