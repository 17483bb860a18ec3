// Small timing helpers the benchmark tasks share: wall-clock milliseconds and medians.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace jenga::worker {

inline double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline double ms_since(std::chrono::steady_clock::time_point t0) { return ms_between(t0, std::chrono::steady_clock::now()); }

// The median of v (the mean of the middle two for an even count); 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace jenga::worker
