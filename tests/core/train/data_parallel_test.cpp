// Data parallelism by threads: GradAllReduce leaves every rank with the mean gradient, a failing
// rank never leaves the others waiting, and replicas trained on different sequences stay equal.
#include "jenga/core/train/data_parallel.hpp"
#include "jenga/core/train/trainer.hpp"
#include "../model/tiny_models.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using jenga::core::GradAllReduce;
using jenga::core::run_ranks;

std::vector<torch::Tensor> params_with_grads(double value, bool second_has_grad) {
  auto a = at::zeros({3, 2}).set_requires_grad(true);
  auto b = at::zeros({4}, at::kDouble).set_requires_grad(true);
  a.mutable_grad() = at::full({3, 2}, value);
  if (second_has_grad) b.mutable_grad() = at::arange(4, at::kDouble) * value;
  return {a, b};
}

TEST(GradAllReduce, EveryRankGetsTheMeanAndMissingGradsCountAsZero) {
  const int n = 3;
  GradAllReduce sync(n);
  std::vector<std::vector<torch::Tensor>> ps;
  for (int r = 0; r < n; ++r) ps.push_back(params_with_grads(r + 1.0, r != 2));
  for (int step = 0; step < 2; ++step)  // twice: the barriers reset between steps
    run_ranks(n, &sync, [&](int r) { sync.average(r, ps[static_cast<size_t>(r)]); });
  for (int r = 0; r < n; ++r) {
    EXPECT_TRUE(at::allclose(ps[r][0].grad(), at::full({3, 2}, 2.0))) << "rank " << r;
    // (1 + 2 + 0) / 3 = 1 times arange after the first round; the second round averages equal values.
    EXPECT_TRUE(at::allclose(ps[r][1].grad(), at::arange(4, at::kDouble))) << "rank " << r << ps[r][1].grad();
    EXPECT_EQ(ps[r][1].grad().scalar_type(), at::kDouble);
  }
}

TEST(GradAllReduce, AFailingRankReleasesTheOthersAndItsErrorIsReported) {
  GradAllReduce sync(3);
  std::vector<std::vector<torch::Tensor>> ps;
  for (int r = 0; r < 3; ++r) ps.push_back(params_with_grads(1.0, true));
  try {
    run_ranks(3, &sync, [&](int r) {
      if (r == 1) throw std::runtime_error("rank 1 ran out of memory");
      sync.average(r, ps[static_cast<size_t>(r)]);
    });
    FAIL() << "the failure must be rethrown";
  } catch (const jenga::core::RankAborted&) {
    FAIL() << "the real failure, not the abort it caused, must be reported";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank 1 ran out of memory");
  }
}

TEST(GradAllReduce, MismatchedShapesAreAnError) {
  GradAllReduce sync(2);
  std::vector<std::vector<torch::Tensor>> ps = {params_with_grads(1.0, true), {params_with_grads(1.0, true)[0]}};
  EXPECT_THROW(run_ranks(2, &sync, [&](int r) { sync.average(r, ps[static_cast<size_t>(r)]); }), jenga::core::Error);
}

TEST(DataParallel, ReplicasOnDifferentSequencesStayEqualAndLearnFromBoth) {
  jenga::core::ModelOptions o;
  o.dtype = at::kFloat;
  const auto cfg = jenga::test::tiny_llama();
  GradAllReduce sync(2);
  std::vector<std::unique_ptr<jenga::core::CausalLM>> models;
  std::vector<std::unique_ptr<jenga::core::Trainer>> trainers;
  jenga::core::TrainConfig tc;
  tc.lr = 1e-2;
  for (int r = 0; r < 2; ++r) {
    models.push_back(jenga::test::with_random_lora(cfg, o));
    auto t = tc;
    t.grad_sync = [&sync, r](const std::vector<torch::Tensor>& p) { sync.average(r, p); };
    trainers.push_back(std::make_unique<jenga::core::Trainer>(*models.back(), t));
  }
  auto alone = jenga::test::with_random_lora(cfg, o);  // the same start, sequence 0 only
  jenga::core::Trainer alone_trainer(*alone, tc);
  at::manual_seed(5);
  for (int step = 0; step < 3; ++step) {
    std::vector<torch::Tensor> ids = {at::randint(cfg.vocab_size, {24}, at::kLong), at::randint(cfg.vocab_size, {24}, at::kLong)};
    run_ranks(2, &sync, [&](int r) {
      const auto res = trainers[static_cast<size_t>(r)]->step(ids[static_cast<size_t>(r)]);
      EXPECT_EQ(res.phase_ms.size(), 4u);  // forward, backward, allreduce, optimizer
    });
    alone_trainer.step(ids[0]);
  }
  const auto a = models[0]->trainable_parameters(), b = models[1]->trainable_parameters(), c = alone->trainable_parameters();
  double diff_alone = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i], b[i])) << "parameter " << i << " differs between replicas";
    diff_alone += (a[i] - c[i]).abs().max().item<double>();
  }
  EXPECT_GT(diff_alone, 1e-6) << "averaging must change the update from that of one sequence";
}

}  // namespace

namespace {

TEST(RankPool, KeepsItsThreadsAcrossRunsAndReportsFailures) {
  jenga::core::RankPool pool(3, nullptr);
  std::vector<std::thread::id> first(3), later(3);
  pool.run([&](int r) { first[static_cast<size_t>(r)] = std::this_thread::get_id(); });
  for (int i = 0; i < 5; ++i) pool.run([&](int r) { later[static_cast<size_t>(r)] = std::this_thread::get_id(); });
  EXPECT_EQ(first, later) << "each rank must keep its thread (per-thread library state)";
  EXPECT_EQ(first[0], std::this_thread::get_id());
  EXPECT_NE(first[1], first[2]);
  EXPECT_THROW(pool.run([&](int r) {
                 if (r == 2) throw std::runtime_error("rank 2 failed");
               }),
               std::runtime_error);
  int calls = 0;
  std::mutex m;
  pool.run([&](int) {
    std::lock_guard<std::mutex> lock(m);
    ++calls;
  });
  EXPECT_EQ(calls, 3) << "a failed run leaves the pool usable";
}

}  // namespace
