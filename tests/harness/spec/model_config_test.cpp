#include "harness/spec/model_config.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Error;
using jenga::harness::find_model_config;
using jenga::harness::load_model_config;
using jenga::harness::testing::expect_error;
using jenga::harness::testing::TempTree;

namespace {

TEST(ModelConfig, LoadsAndChecksHfConfigExists) {
  TempTree t;
  t.write("configs/models/hf/m/config.json", "{}");
  const std::string path = t.write("configs/models/m.yaml",
                                   "family: llama\n"
                                   "hf_config: configs/models/hf/m/config.json\n"
                                   "checkpoint: \"\"\n"
                                   "source: org/m\n"
                                   "description: a model\n");
  const auto c = load_model_config(path);
  EXPECT_EQ(c.name, "m");
  EXPECT_EQ(c.file, path);
  EXPECT_EQ(c.family, "llama");
  EXPECT_EQ(c.hf_config, "configs/models/hf/m/config.json");
  EXPECT_EQ(c.checkpoint, "");
  EXPECT_EQ(c.source, "org/m");
  EXPECT_EQ(c.description, "a model");
  EXPECT_EQ(find_model_config(t.root(), "m").family, "llama");
}

TEST(ModelConfig, Errors) {
  TempTree t;
  t.write("configs/models/hf/m/config.json", "{}");
  const std::string path = t.path("configs/models/m.yaml");
  auto at = [&](const Error& e, int line, int col) {
    EXPECT_EQ(e.where().file, path);
    EXPECT_EQ(e.where().line, line) << e.what();
    EXPECT_EQ(e.where().column, col) << e.what();
    EXPECT_CONTAINS(e.what(), "m.yaml:" + std::to_string(line) + ":" + std::to_string(col) + ": ");
  };
  {
    t.write("configs/models/m.yaml", "family: gpt\nhf_config: configs/models/hf/m/config.json\n");
    const Error e = expect_error([&] { load_model_config(path); });
    at(e, 1, 9);
    EXPECT_CONTAINS(e.what(), "family: expected \"llama\" or \"opt\", got the string \"gpt\"");
  }
  {
    t.write("configs/models/m.yaml", "family: opt\nhf_config: configs/models/hf/x/config.json\n");
    const Error e = expect_error([&] { load_model_config(path); });
    at(e, 2, 12);
    EXPECT_CONTAINS(e.what(), "hf_config file not found");
  }
  {
    t.write("configs/models/m.yaml", "family: opt\n");
    const Error e = expect_error([&] { load_model_config(path); });
    at(e, 1, 1);
    EXPECT_CONTAINS(e.what(), "missing required key 'hf_config' in model config");
  }
  {
    t.write("configs/models/m.yaml", "family: opt\nhf_config: configs/models/hf/m/config.json\nweights: x\n");
    const Error e = expect_error([&] { load_model_config(path); });
    at(e, 3, 1);
    EXPECT_CONTAINS(e.what(), "unknown key 'weights' in model config; allowed keys: checkpoint, description, "
                              "family, hf_config, source");
  }
  {
    // A bare `checkpoint:` is a forgotten value, not "random init".
    t.write("configs/models/m.yaml", "family: opt\nhf_config: configs/models/hf/m/config.json\ncheckpoint:\n");
    const Error e = expect_error([&] { load_model_config(path); });
    EXPECT_EQ(e.where().line, 3) << e.what();
    EXPECT_CONTAINS(e.what(), "checkpoint: expected a string, got null");
  }
  {
    const Error e = expect_error([&] { find_model_config(t.root(), "llama"); });
    EXPECT_CONTAINS(e.what(), "unknown model 'llama'; available in ");
    EXPECT_CONTAINS(e.what(), ": m");
  }
}

}  // namespace
