// Layouts and comparisons the attention tests share.
#pragma once

#include "jenga/core/attention/sparse_layout.hpp"
#include "jenga/core/error.hpp"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace jenga::test {

inline core::LayoutShape layout_shape(int64_t heads, int64_t seq_q, int64_t seq_k, int64_t bq = 64, int64_t bk = 64) {
  core::LayoutShape s;
  s.heads = heads;
  s.seq_q = seq_q;
  s.seq_k = seq_k;
  s.block_q = bq;
  s.block_k = bk;
  return s;
}

// Expects `f` to throw core::Error whose message contains `part`.
template <typename F>
void expect_error(F&& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning \"" << part << "\"";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what();
  }
}

// Random blocks at about `density` of each row's visible blocks (top-k of random scores, the
// diagonal kept unless told otherwise), plus `columns_per_head` random vertical lines.
inline core::SparseLayout random_layout(const core::LayoutShape& s, double density, int64_t columns_per_head = 0,
                                        bool keep_diagonal = true) {
  auto L = core::topk_fraction_layout(at::rand({s.heads, s.q_blocks(), s.k_blocks()}), density, s, keep_diagonal);
  if (columns_per_head > 0) L = core::with_columns(L, at::randint(-1, s.seq_k, {s.heads, columns_per_head}, at::kLong));
  return L;
}

// The rows' lists as vectors, for hand-written expectations.
inline std::vector<std::vector<int32_t>> lists(const at::Tensor& offsets, const at::Tensor& entries) {
  const auto o = offsets.cpu().contiguous(), e = entries.cpu().contiguous();
  std::vector<std::vector<int32_t>> out;
  for (int64_t r = 0; r + 1 < o.numel(); ++r) {
    out.emplace_back();
    for (int64_t i = o[r].item<int32_t>(); i < o[r + 1].item<int32_t>(); ++i) out.back().push_back(e[i].item<int32_t>());
  }
  return out;
}

// Largest |got - want| and where, as a message a failing CUDA test can print as is.
struct Diff {
  double max_abs = 0, want_max = 0, got_at = 0, want_at = 0;
  std::vector<int64_t> where;
  bool nan = false;
  std::string str() const {
    std::ostringstream os;
    os << (nan ? "NaN/inf in result; " : "") << "max |err| " << max_abs << " at [";
    for (size_t i = 0; i < where.size(); ++i) os << (i ? ", " : "") << where[i];
    os << "] (got " << got_at << ", want " << want_at << "), max |want| " << want_max << ", relative " << rel();
    return os.str();
  }
  double rel() const { return max_abs / (want_max > 1e-6 ? want_max : 1e-6); }
};

inline Diff diff(const at::Tensor& got, const at::Tensor& want) {
  Diff d;
  const auto g = got.detach().to(at::kDouble).cpu(), w = want.detach().to(at::kDouble).cpu();
  d.nan = !at::isfinite(g).all().item<bool>();
  const auto err = (g - w).abs().nan_to_num(1e300, 1e300, 1e300);
  d.want_max = w.abs().max().item<double>();
  int64_t flat = err.reshape({-1}).argmax().item<int64_t>();
  d.max_abs = err.reshape({-1})[flat].item<double>();
  d.got_at = g.reshape({-1})[flat].item<double>();
  d.want_at = w.reshape({-1})[flat].item<double>();
  d.where.assign(static_cast<size_t>(g.dim()), 0);
  for (int64_t i = g.dim() - 1; i >= 0; --i) {
    d.where[static_cast<size_t>(i)] = flat % g.size(i);
    flat /= g.size(i);
  }
  return d;
}

}  // namespace jenga::test
