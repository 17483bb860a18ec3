#include "jenga/core/compat.hpp"
#include "jenga/core/error.hpp"
#include "jenga/core/runtime/device.hpp"
#include "jenga/core/runtime/provenance.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace jenga::core;

TEST(Device, ParsesSpecs) {
  EXPECT_TRUE(select_device("cpu").is_cpu());
  const auto a = select_device("auto");
  EXPECT_EQ(a.is_cuda(), torch::cuda::is_available());
  EXPECT_THROW(select_device("tpu"), Error);
  EXPECT_THROW(select_device("cuda:x"), Error);
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(select_device("cuda:0"), Error);
  }
}

TEST(Device, MemoryCapRejectsGarbage) {
  ::setenv("JENGA_MEMORY_CAP_GIB", "lots", 1);
  const auto dev = select_device("auto");
  if (dev.is_cuda()) {
    EXPECT_THROW(apply_memory_cap_from_env(dev), Error);
  } else {
    EXPECT_FALSE(apply_memory_cap_from_env(dev));  // caps apply to CUDA only
  }
  ::unsetenv("JENGA_MEMORY_CAP_GIB");
}

TEST(Provenance, HasEveryField) {
  const auto p = collect_provenance("cpu");
  for (const char* k : {"commit", "torch", "host", "time", "device", "gpu", "driver", "cuda_runtime"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p["torch"], compat::torch_version());
  EXPECT_EQ(utc_now_iso().size(), 24u);
}

// The compat attention must be the exact causal softmax attention on both LibTorch versions.
TEST(Compat, AttentionMatchesExplicitSoftmax) {
  torch::manual_seed(0);
  auto q = torch::randn({1, 2, 7, 8}, torch::kDouble), k = torch::randn({1, 2, 7, 8}, torch::kDouble),
       v = torch::randn({1, 2, 7, 8}, torch::kDouble);
  const double scale = 1.0 / std::sqrt(8.0);
  auto s = torch::matmul(q, k.transpose(-2, -1)) * scale;
  auto mask = torch::ones({7, 7}, torch::kBool).triu(1);
  auto ref = torch::matmul(torch::softmax(s.masked_fill(mask, -INFINITY), -1), v);
  auto out = compat::scaled_dot_product_attention(q.to(torch::kFloat), k.to(torch::kFloat), v.to(torch::kFloat), true, scale);
  EXPECT_LT((out.to(torch::kDouble) - ref).norm().item<double>() / ref.norm().item<double>(), 1e-5);
  auto full = compat::scaled_dot_product_attention(q.to(torch::kFloat), k.to(torch::kFloat), v.to(torch::kFloat), false, scale);
  auto ref_full = torch::matmul(torch::softmax(s, -1), v);
  EXPECT_LT((full.to(torch::kDouble) - ref_full).norm().item<double>() / ref_full.norm().item<double>(), 1e-5);
}
