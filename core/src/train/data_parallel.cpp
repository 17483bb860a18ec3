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

void run_ranks(int n, GradAllReduce* sync, const std::function<void(int rank)>& fn) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n)), aborted(static_cast<size_t>(n));
  auto body = [&](int r) {
    try {
      fn(r);
    } catch (const RankAborted&) {
      aborted[static_cast<size_t>(r)] = std::current_exception();
    } catch (...) {
      errors[static_cast<size_t>(r)] = std::current_exception();
      if (sync) sync->abort();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 1; r < n; ++r) threads.emplace_back(body, r);
  body(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  for (const auto& e : aborted)
    if (e) std::rethrow_exception(e);
}

}  // namespace jenga::core
