// LongBench-format files: fields read (dataset from the field or the file stem), every malformed
// line named by file:line, middle truncation, and evaluate() scoring what a real model generates.
#include "jenga/core/error.hpp"
#include "jenga/core/eval/longbench.hpp"
#include "jenga/core/eval/longbench_metrics.hpp"
#include "../model/tiny_models.hpp"
#include "io/posix_files.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace lb = jenga::core::longbench;

namespace {

// Files under one per-process folder (POSIX calls: std::filesystem is unsafe next to LibTorch).
std::string write_temp(const std::string& name, const std::string& text) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/jenga-lb-" + std::to_string(::getpid());
  jenga::core::posix_files::make_directories(dir);
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(LongBenchFiles, ReadsFieldsAndTakesTheDatasetFromTheStem) {
  const auto path = write_temp("hotpotqa.jsonl",
                               R"({"input": "Who?", "context": "Ada wrote it.", "answers": ["Ada"], "_id": "x1"})" "\n"
                               "\n"
                               R"({"input": "Type?", "context": "ex", "answers": ["HUM"], "dataset": "trec", "all_classes": ["HUM", "LOC"]})" "\n");
  const auto s = lb::read_jsonl(path);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].dataset, "hotpotqa");
  EXPECT_EQ(s[0].id, "x1");
  EXPECT_EQ(s[0].answers, std::vector<std::string>{"Ada"});
  EXPECT_EQ(s[1].dataset, "trec");
  EXPECT_EQ(s[1].line, 3);
  EXPECT_EQ(s[1].all_classes, (std::vector<std::string>{"HUM", "LOC"}));
  const std::string p = lb::prompt_for(s[0]);
  EXPECT_NE(p.find("Ada wrote it."), std::string::npos);
  EXPECT_NE(p.find("Question: Who?"), std::string::npos);
}

TEST(LongBenchFiles, MalformedLinesNameFileAndLine) {
  auto expect_error = [](const std::string& name, const std::string& text, const std::string& what) {
    const auto path = write_temp(name, text);
    try {
      lb::read_jsonl(path);
      ADD_FAILURE() << name << " must be refused";
    } catch (const jenga::core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("a.jsonl", R"({"input": "q", "context": "c", "answers": ["x"]})" "\n{broken\n", "a.jsonl:2: not a JSON object");
  expect_error("b.jsonl", R"({"input": "q", "context": "c"})" "\n", "b.jsonl:1: missing field 'answers'");
  expect_error("c.jsonl", R"({"input": "q", "context": "c", "answers": "x"})" "\n", "c.jsonl:1: field 'answers' must be a list");
  expect_error("d.jsonl", "", "holds no samples");
}

TEST(LongBenchFiles, TruncationKeepsBothEnds) {
  const std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(lb::truncate_middle(ids, 10), ids);
  EXPECT_EQ(lb::truncate_middle(ids, 4), (std::vector<int64_t>{1, 2, 6, 7}));
  EXPECT_EQ(lb::truncate_middle(ids, 5), (std::vector<int64_t>{1, 2, 5, 6, 7}));
  EXPECT_THROW(lb::truncate_middle(ids, 1), jenga::core::Error);
}

TEST(LongBenchEval, ScoresWhatTheModelGeneratesWithinLimits) {
  auto cfg = jenga::test::tiny_llama();
  cfg.vocab_size = 256;  // bytes
  jenga::core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = jenga::core::make_causal_lm(cfg, o, "", 3);
  const auto path = write_temp("passkey.jsonl",
                               R"({"input": "What is the pass key?", "context": "filler text. The pass key is 12345. more filler.", "answers": ["12345"]})" "\n"
                               R"({"input": "What is the pass key?", "context": "The pass key is 777.", "answers": ["777"]})" "\n"
                               R"({"input": "What is the pass key?", "context": "The pass key is 9.", "answers": ["9"]})" "\n");
  const auto samples = lb::read_jsonl(path);
  const auto tok = jenga::core::make_byte_tokenizer();
  lb::Options opt;
  opt.max_context = 40;
  opt.max_new_tokens = 5;
  opt.limit = 2;
  int seen = 0;
  const auto preds = lb::evaluate(*m, *tok, samples, opt, {}, [&](const lb::Prediction&) { ++seen; });
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(seen, 2);
  for (const auto& p : preds) {
    EXPECT_LE(p.prompt_tokens, 40);
    EXPECT_LE(p.text.size(), 5u);
    EXPECT_GE(p.score, 0.0);
    EXPECT_LE(p.score, 1.0);
    EXPECT_DOUBLE_EQ(p.score, jenga::core::longbench::score_sample("passkey", p.text, p.sample->answers));
  }
}

}  // namespace

namespace {

TEST(LongBenchEval, AnswerLengthsFollowTheDatasetScaledForByteTokenizers) {
  auto cfg = jenga::test::tiny_llama();
  cfg.vocab_size = 256;
  jenga::core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = jenga::core::make_causal_lm(cfg, o, "", 5);
  // hotpotqa: 32 tokens, no stop at a newline; bytes have no EOS, so every token is generated.
  const auto path = write_temp("hotpotqa.jsonl", R"({"input": "Who?", "context": "Ada wrote it.", "answers": ["Ada"]})" "\n");
  const auto samples = lb::read_jsonl(path);
  const auto tok = jenga::core::make_byte_tokenizer();
  lb::Options opt;
  EXPECT_EQ(lb::evaluate(*m, *tok, samples, opt).at(0).text.size(), 32u);
  opt.new_token_scale = 2.0;
  EXPECT_EQ(lb::evaluate(*m, *tok, samples, opt).at(0).text.size(), 64u);
  opt.max_new_tokens = 3;  // an explicit length wins
  EXPECT_EQ(lb::evaluate(*m, *tok, samples, opt).at(0).text.size(), 3u);
}

}  // namespace
