// Predictor training on a tiny frozen model: the loss against the exact block map falls, the
// saved predictors load into the token eliminator, and a policy with no sparse layer is refused.
#include "../io/test_dir.hpp"
#include "../model/tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/sparsity/predictor_training.hpp"
#include "jenga/core/sparsity/token_elimination.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

using namespace jenga;

namespace {

std::unique_ptr<core::CausalLM> frozen_tiny() {
  core::ModelOptions o;
  o.dtype = at::kFloat;
  return core::make_causal_lm(test::tiny_llama(), o, "", 5);
}

core::EliminationConfig policy() {
  core::EliminationConfig ec;
  ec.first_sparse_layer = 0;
  ec.last_layer_dense = true;  // layer 0 sparse, layer 1 dense
  ec.kept_fraction = 0.5;
  return ec;
}

}  // namespace

class PredictorTraining : public test::TempDirTest {};

TEST_F(PredictorTraining, LossFallsAndPredictorsLoadIntoTheEliminator) {
  auto m = frozen_tiny();
  core::PredictorTrainConfig pc;
  pc.lr = 1e-3;
  pc.target_scale = 1.0;
  pc.prune_every = 10;
  pc.prune_zero_ratio = 0.99;
  core::PredictorTrainer t(*m, policy(), pc, "", 1);
  at::manual_seed(2);
  const auto ids = at::randint(m->config().vocab_size, {256}, at::kLong);
  const int64_t params0 = t.num_params();
  const auto first = t.step(ids);
  core::PredictorStepResult last;
  for (int i = 0; i < 30; ++i) last = t.step(ids);
  EXPECT_TRUE(std::isfinite(first.loss));
  EXPECT_LT(last.loss, 0.5 * first.loss) << "first " << first.loss << " last " << last.loss;
  EXPECT_GE(last.recall, 0.0);
  EXPECT_LE(last.recall, 1.0);
  EXPECT_LE(last.params, params0);

  t.save(path("pred"));
  core::TokenEliminator e(*m, policy(), core::TokenEliminator::Selector::Predictor, path("pred"), 0);
  EXPECT_EQ(e.predictor_params(), t.num_params());
}

TEST_F(PredictorTraining, RefusesAPolicyWithoutSparseLayers) {
  auto m = frozen_tiny();
  auto ec = policy();
  ec.first_sparse_layer = 2;
  EXPECT_THROW(core::PredictorTrainer(*m, ec, {}, "", 1), core::Error);
}
