// The trainer's allocation timeline: every layer marked once in forward (in order) and once in
// backward (in reverse), phase ends last, times non-decreasing; with and without checkpointing.
#include "../model/tiny_models.hpp"

#include "jenga/core/train/trainer.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

using namespace jenga;

TEST(Timeline, LayersInForwardOrderThenBackwardInReverse) {
  for (bool ckpt : {false, true}) {
    core::ModelOptions o;
    o.dtype = at::kFloat;
    o.gradient_checkpointing = ckpt;
    const auto cfg = test::tiny_llama();
    auto m = core::make_causal_lm(cfg, o, "", 7);
    m->add_lora({}, 11);
    core::TrainConfig tc;
    tc.timeline = true;
    core::Trainer tr(*m, tc);
    const auto r = tr.step(at::randint(cfg.vocab_size, {24}, at::kLong));
    std::vector<std::string> want;
    for (int64_t i = 0; i < cfg.num_layers; ++i) want.push_back("forward/layer " + std::to_string(i));
    want.push_back("forward end");
    for (int64_t i = cfg.num_layers - 1; i >= 0; --i) want.push_back("backward/layer " + std::to_string(i));
    want.push_back("backward end");
    want.push_back("optimizer end");
    std::vector<std::string> got;
    double t = -1;
    for (const auto& p : r.timeline) {
      got.push_back(p.label);
      EXPECT_GE(p.t_ms, t) << p.label;
      t = p.t_ms;
    }
    EXPECT_EQ(got, want) << "checkpointing " << ckpt;
    ASSERT_EQ(r.phase_ms.size(), 3u);
    EXPECT_EQ(r.phase_ms[0].first, "forward");
  }
}

TEST(Timeline, OffByDefault) {
  core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = core::make_causal_lm(test::tiny_llama(), o, "", 7);
  m->add_lora({}, 11);
  core::Trainer tr(*m, {});
  EXPECT_TRUE(tr.step(at::randint(97, {16}, at::kLong)).timeline.empty());
}
