// Checkpoint directories: a single model.safetensors, or shards named by
// model.safetensors.index.json; missing or inconsistent shards are errors naming the shard.
#include "test_dir.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/io/safetensors.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

using jenga::core::Checkpoint;
using jenga::core::Error;
using jenga::core::save_safetensors;
using jenga::test::write_bytes;

namespace {

class CheckpointDir : public jenga::test::TempDirTest {
 protected:
  // Two shards as transformers writes them, plus their index.
  void write_sharded() {
    at::manual_seed(1);
    a_ = at::randn({4, 3});
    b_ = at::randn({5}).to(at::kBFloat16);
    c_ = at::randn({2, 2});
    save_safetensors(path("model-00001-of-00002.safetensors"), {{"a", a_}, {"b", b_}}, {{"format", "pt"}});
    save_safetensors(path("model-00002-of-00002.safetensors"), {{"c", c_}}, {{"format", "pt"}});
    index_ = {{"metadata", {{"total_size", 4 * 3 * 4 + 5 * 2 + 2 * 2 * 4}}},
              {"weight_map",
               {{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00001-of-00002.safetensors"}, {"c", "model-00002-of-00002.safetensors"}}}};
    write_index();
  }
  void write_index() { write_bytes(path("model.safetensors.index.json"), index_.dump(2)); }

  at::Tensor a_, b_, c_;
  nlohmann::json index_;
};

template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected jenga::core::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const auto& frag : fragments) EXPECT_NE(m.find(frag), std::string::npos) << "message: " << m << "\nmissing: " << frag;
  }
}

}  // namespace

TEST_F(CheckpointDir, SingleFile) {
  const auto w = at::randn({3, 2});
  save_safetensors(path("model.safetensors"), {{"w", w}, {"v", at::ones({1})}});
  const Checkpoint ck(dir_);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"v", "w"}));
  EXPECT_TRUE(ck.contains("w"));
  EXPECT_FALSE(ck.contains("x"));
  EXPECT_TRUE(at::equal(ck.load("w", at::kCPU, at::kFloat), w));
  expect_error([&] { ck.load("x", at::kCPU, at::kFloat); }, {"'x'"});
}

TEST_F(CheckpointDir, ShardedWithIndex) {
  write_sharded();
  const Checkpoint ck(dir_);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(at::equal(ck.load("a", at::kCPU, at::kFloat), a_));
  EXPECT_TRUE(at::equal(ck.load("b", at::kCPU, at::kBFloat16), b_));
  EXPECT_TRUE(at::equal(ck.load("b", at::kCPU, at::kFloat), b_.to(at::kFloat)));
  EXPECT_TRUE(at::equal(ck.load("c", at::kCPU, at::kFloat), c_));
}

TEST_F(CheckpointDir, MissingShardIsAnErrorNamingIt) {
  write_sharded();
  ASSERT_EQ(::unlink(path("model-00002-of-00002.safetensors").c_str()), 0);
  expect_error([&] { Checkpoint ck(dir_); }, {"model-00002-of-00002.safetensors", "'c'", "missing"});
}

TEST_F(CheckpointDir, IndexPointingAtTheWrongShard) {
  write_sharded();
  index_["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  write_index();
  expect_error([&] { Checkpoint ck(dir_); }, {"'c'", "model-00001-of-00002.safetensors", "does not contain"});
}

TEST_F(CheckpointDir, IndexMustStayInTheDirectory) {
  write_sharded();
  index_["weight_map"]["c"] = "../elsewhere.safetensors";
  write_index();
  expect_error([&] { Checkpoint ck(dir_); }, {"../elsewhere.safetensors", "plain file name"});
}

TEST_F(CheckpointDir, BadIndex) {
  write_bytes(path("model.safetensors.index.json"), "{ not json");
  expect_error([&] { Checkpoint ck(dir_); }, {"model.safetensors.index.json", "not valid JSON"});
  write_bytes(path("model.safetensors.index.json"), R"({"metadata": {}})");
  expect_error([&] { Checkpoint ck(dir_); }, {"model.safetensors.index.json", "weight_map"});
  write_bytes(path("model.safetensors.index.json"), R"({"weight_map": {"a": 3}})");
  expect_error([&] { Checkpoint ck(dir_); }, {"'a'", "not a string"});
}

TEST_F(CheckpointDir, CorruptShardIsReportedByFile) {
  write_sharded();
  write_bytes(path("model-00002-of-00002.safetensors"), "abc");
  expect_error([&] { Checkpoint ck(dir_); }, {"model-00002-of-00002.safetensors", "shorter than the 8-byte"});
}

TEST_F(CheckpointDir, EmptyOrMissingDirectory) {
  expect_error([&] { Checkpoint ck(dir_); }, {"no model.safetensors or model.safetensors.index.json"});
  expect_error([&] { Checkpoint ck(path("nope")); }, {"nope", "does not exist"});
}
