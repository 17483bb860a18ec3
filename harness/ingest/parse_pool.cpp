#include "harness/ingest/parse_pool.hpp"

#include "harness/common/error.hpp"

#include <algorithm>

namespace jenga::harness {

ParsePool::ParsePool(const std::vector<std::string>& paths, const std::string& repo_root)
    : paths_(paths), repo_root_(repo_root), slots_(paths.size()) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  // Leave a core to the consumer (the SQLite writer); beyond four, parsing outruns it anyway.
  const std::size_t n_threads = std::min<std::size_t>({std::max(1u, hw - 1), 4, paths.size()});
  window_ = 2 * n_threads + 2;
  if (paths.size() <= 1) return;  // take() parses inline
  for (std::size_t t = 0; t < n_threads; ++t) threads_.emplace_back([this] { work(); });
}

ParsePool::~ParsePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

ParseOutcome ParsePool::parse_one(const std::string& path, const std::string& repo_root, std::exception_ptr& unexpected) {
  ParseOutcome out;
  try {
    out.parsed = parse_log(path, repo_root);
  } catch (const Error& e) {
    out.error = e.message();
    out.where_line = e.where().line;
  } catch (...) {
    unexpected = std::current_exception();
  }
  return out;
}

void ParsePool::work() {
  for (;;) {
    std::size_t i;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || next_ >= paths_.size() || next_ < consumed_ + window_; });
      if (stop_ || next_ >= paths_.size()) return;
      i = next_++;
    }
    std::exception_ptr unexpected;
    ParseOutcome out = parse_one(paths_[i], repo_root_, unexpected);
    {
      std::lock_guard<std::mutex> lock(mu_);
      slots_[i].outcome = std::move(out);
      slots_[i].unexpected = unexpected;
      slots_[i].done = true;
    }
    cv_.notify_all();
  }
}

ParseOutcome ParsePool::take(std::size_t i) {
  if (threads_.empty()) {
    std::exception_ptr unexpected;
    ParseOutcome out = parse_one(paths_[i], repo_root_, unexpected);
    if (unexpected) std::rethrow_exception(unexpected);
    return out;
  }
  ParseOutcome out;
  std::exception_ptr unexpected;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return slots_[i].done; });
    out = std::move(slots_[i].outcome);
    unexpected = slots_[i].unexpected;
    slots_[i].outcome = ParseOutcome{};
    consumed_ = i + 1;
  }
  cv_.notify_all();
  if (unexpected) std::rethrow_exception(unexpected);
  return out;
}

}  // namespace jenga::harness
