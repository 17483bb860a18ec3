// tokenizer.json byte-level BPE on the two tiny hand-made fixtures (256 byte symbols + 15 merges,
// GPT-2's and Llama-3's configurations; scripts/make_tokenizer_fixtures.py tiny): ids worked out
// by hand, round trips of any text, added tokens, both merge formats, and errors that name the
// file and what was expected.
#include "jenga/core/error.hpp"
#include "jenga/core/text/hf_tokenizer.hpp"
#include "jenga/core/text/tokenizer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace jenga;
using Ids = std::vector<int64_t>;
using Json = nlohmann::json;

namespace {

const std::string kDir = std::string(JENGA_TEST_FIXTURES) + "/tokenizer";
const std::string kGpt2 = kDir + "/hf_tiny_gpt2.json", kLlama3 = kDir + "/hf_tiny_llama3.json";

// Byte symbols have GPT-2's ids: printable ASCII c is c - 33, a space (Ġ) 220, a newline (Ċ) 198.
int64_t b(char c) { return c == ' ' ? 220 : c == '\n' ? 198 : c - 33; }
// Merged tokens, in merge order (both fixtures).
enum : int64_t { Gt = 256, he, Gthe, in, Ga, ll, ow, er, GG, t12, t123, quote_s, ing, nl3, nl2 };
// Added tokens: GPT-2's fixture, then Llama-3's (after its extra vocab entry "Ġhello" = 271).
enum : int64_t { endoftext = 271, mask, tag };
enum : int64_t { Ghello = 271, begin_of_text, end_of_text, eot_id };

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh directory under the test temp dir.
std::string temp_dir(const std::string& name) {
  const std::string d = testing::TempDir() + "/hf_tokenizer_test_" + std::to_string(::getpid()) + "_" + name;
  ::mkdir(d.c_str(), 0755);
  return d;
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// The error message of loading `j` written as <tmp>/<name>/tokenizer.json.
std::string load_error(const Json& j, const std::string& name) {
  const std::string path = write(temp_dir(name), "tokenizer.json", j.dump());
  try {
    core::load_hf_tokenizer(path);
  } catch (const core::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    return m;
  }
  ADD_FAILURE() << name << ": loaded without an error";
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(HfTokenizer, Gpt2StyleIdsByHand) {
  const auto t = core::load_hf_tokenizer(kGpt2);
  EXPECT_EQ(t->vocab_size(), 274);
  EXPECT_EQ(t->bos_id(), std::nullopt);  // GPT-2 adds no BOS
  EXPECT_EQ(t->eos_id(), endoftext);     // no template suffix, no tokenizer_config.json: <|endoftext|>
  EXPECT_EQ(t->encode(""), Ids{});
  EXPECT_EQ(t->encode("the"), (Ids{b('t'), he}));
  EXPECT_EQ(t->encode(" the"), (Ids{Gthe}));  // Ġ t -> Ġt; h e -> he; Ġt he -> Ġthe
  EXPECT_EQ(t->encode("the lower king's"), (Ids{b('t'), he, b(' '), b('l'), ow, er, b(' '), b('k'), ing, quote_s}));
  EXPECT_EQ(t->encode(" hello"), (Ids{b(' '), he, ll, b('o')}));
  EXPECT_EQ(t->encode("123 1234567"), (Ids{t123, b(' '), t123, b('4'), b('5'), b('6'), b('7')}));
  // "   a": two spaces (ĠĠ) then " a" (Ġa).
  EXPECT_EQ(t->encode("   a"), (Ids{GG, Ga}));
  // Merges by rank then position, as HF's heap does: Ċ Ċ Ċ Ċ -> ĊĊ Ċ Ċ (rank 14, leftmost) ->
  // ĊĊĊ Ċ (ĊĊ+Ċ has the lower rank 13), not ĊĊ ĊĊ.
  EXPECT_EQ(t->encode("\n\n\n"), (Ids{nl3}));
  EXPECT_EQ(t->encode("\n\n\n\n"), (Ids{nl3, b('\n')}));
  EXPECT_EQ(t->token_to_id("Ġthe"), Gthe);
  EXPECT_EQ(t->token_to_id("<mask>"), mask);
  EXPECT_EQ(t->token_to_id("nope"), std::nullopt);
}

TEST(HfTokenizer, Gpt2StyleAddedTokens) {
  const auto t = core::load_hf_tokenizer(kGpt2);
  EXPECT_EQ(t->encode("a<|endoftext|>b"), (Ids{b('a'), endoftext, b('b')}));
  EXPECT_EQ(t->encode("<|endoftext|><|endoftext|>"), (Ids{endoftext, endoftext}));
  EXPECT_EQ(t->encode("<|endoftext|"), (Ids{b('<'), b('|'), b('e'), b('n'), b('d'), b('o'), b('f'), b('t'), b('e'), b('x'), b('t'), b('|')}));
  // <mask> strips the whitespace on its left (lstrip), which then is not encoded.
  EXPECT_EQ(t->encode("x  <mask> y"), (Ids{b('x'), mask, b(' '), b('y')}));
  // Special tokens vanish in decode; other added tokens come back as written.
  EXPECT_EQ(t->decode({b('a'), endoftext, tag, mask, b('b')}), "a<tag>b");
  EXPECT_EQ(t->encode_with_special_tokens("the"), (Ids{b('t'), he}));  // the ByteLevel post-processor adds nothing
}

TEST(HfTokenizer, Llama3StyleIdsByHand) {
  const auto t = core::load_hf_tokenizer(kLlama3);
  EXPECT_EQ(t->vocab_size(), 275);
  EXPECT_EQ(t->bos_id(), begin_of_text);  // TemplateProcessing: <|begin_of_text|> $A
  EXPECT_EQ(t->eos_id(), end_of_text);
  // ignore_merges: " hello" is a vocabulary entry that no merge builds.
  EXPECT_EQ(t->encode(" hello"), (Ids{Ghello}));
  EXPECT_EQ(t->encode("hello"), (Ids{he, ll, b('o')}));
  EXPECT_EQ(t->encode("1234567"), (Ids{t123, b('4'), b('5'), b('6'), b('7')}));
  EXPECT_EQ(t->encode("DON'T it's"), (Ids{b('D'), b('O'), b('N'), b('\''), b('T'), b(' '), b('i'), b('t'), quote_s}));
  EXPECT_EQ(t->encode("\n\n\nthe"), (Ids{nl3, b('t'), he}));
  EXPECT_EQ(t->encode("<|begin_of_text|>hello<|eot_id|>"), (Ids{begin_of_text, he, ll, b('o'), eot_id}));
  EXPECT_EQ(t->encode_with_special_tokens("hi"), (Ids{begin_of_text, b('h'), b('i')}));
  EXPECT_EQ(t->encode_with_special_tokens(""), (Ids{begin_of_text}));
  EXPECT_EQ(t->decode({begin_of_text, Ghello, eot_id}), " hello");
}

TEST(HfTokenizer, DecodeInvertsEncodeForAnyText) {
  const std::vector<std::string> texts = {
      "Hello, world! The quick brown fox.\n",
      "  leading and trailing spaces   ",
      "tabs\tand\t\ttabs\r\nwindows\r\nlines\n\n\n",
      "digits 1234567 3.14159 1,000,000 \u00bd \u0663\u0664\u0665\u0666",
      "na\u00efve caf\u00e9 \u00dcber e\u0301 a\u0308 \u0915\u094d\u0937",
      "\u4f60\u597d\u4e16\u754c \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4 \u041f\u0440\u0438\u0432\u0435\u0442",
      "emoji \U0001F600\U0001F680 \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f",
      "DON'T we'Re it'\u017f \u00a0nbsp\u3000ideographic\u2028sep",
      "mm_struct->pgd = NULL;   /* no page tables */",
      "bad bytes \xff\xfe \xc3 \xed\xa0\x80 end\x80",
  };
  for (const auto& path : {kGpt2, kLlama3}) {
    const auto t = core::load_hf_tokenizer(path);
    for (const auto& s : texts) EXPECT_EQ(t->decode(t->encode(s)), s) << path << ": " << s;
    std::mt19937 rng(11);
    for (int n = 0; n < 200; ++n) {  // random bytes, mostly not UTF-8
      std::string s;
      for (int k = static_cast<int>(rng() % 40); k > 0; --k) s += static_cast<char>(rng() % 256);
      if (s.find('<') != std::string::npos) continue;  // could spell an added token
      EXPECT_EQ(t->decode(t->encode(s)), s) << path;
    }
  }
}

TEST(HfTokenizer, MergeFormatsGiveTheSameIds) {
  // The GPT-2 fixture has "a b" strings; rewrite them as [a, b] pairs.
  Json j = Json::parse(read(kGpt2));
  ASSERT_TRUE(j["model"]["merges"][0].is_string());
  Json pairs = Json::array();
  for (const auto& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  j["model"]["merges"] = pairs;
  const auto strings = core::load_hf_tokenizer(kGpt2);
  const auto arrays = core::load_hf_tokenizer(write(temp_dir("pairs"), "tokenizer.json", j.dump()));
  for (const std::string s : {"the lower king's", "123 1234567\n\n\n\n", " hello   world"}) EXPECT_EQ(arrays->encode(s), strings->encode(s)) << s;
}

TEST(HfTokenizer, ErrorsNameTheFileAndWhatWasExpected) {
  const Json base = Json::parse(read(kLlama3));
  try {
    core::load_hf_tokenizer(kDir + "/missing/tokenizer.json");
    ADD_FAILURE();
  } catch (const core::Error& e) {
    EXPECT_TRUE(has(e.what(), "missing/tokenizer.json")) << e.what();
  }
  {
    const std::string p = write(temp_dir("notjson"), "tokenizer.json", "{\"model\": ");
    try {
      core::load_hf_tokenizer(p);
      ADD_FAILURE();
    } catch (const core::Error& e) {
      EXPECT_TRUE(has(e.what(), p) && has(e.what(), "not valid JSON")) << e.what();
    }
  }
  Json j = base;
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = R"((?i:'s|'t)|\p{N}| ?\p{L}+)";
  std::string m = load_error(j, "pattern");
  EXPECT_TRUE(has(m, "pre_tokenizer.pretokenizers[0].pattern.Regex") && has(m, R"(\\p{N}| ?\\p{L}+)")) << m;
  j = base;
  j["normalizer"] = {{"type", "NFC"}};
  m = load_error(j, "normalizer");
  EXPECT_TRUE(has(m, "normalizer") && has(m, "'NFC' is not supported")) << m;
  j = base;
  j["model"]["type"] = "WordPiece";
  EXPECT_TRUE(has(load_error(j, "model"), "model.type"));
  j = base;
  j["model"]["merges"][3] = "i";
  m = load_error(j, "merge_string");
  EXPECT_TRUE(has(m, "model.merges[3]") && has(m, "left right")) << m;
  j = base;
  j["model"]["merges"][3] = {"i", "zz"};
  m = load_error(j, "merge_token");
  EXPECT_TRUE(has(m, "model.merges[3]") && has(m, "'zz'")) << m;
  j = base;
  j["model"].erase("vocab");
  EXPECT_TRUE(has(load_error(j, "vocab"), "missing field 'vocab'"));
  j = base;
  j["decoder"] = nullptr;
  EXPECT_TRUE(has(load_error(j, "decoder"), "decoder"));
  j = base;
  j["pre_tokenizer"]["pretokenizers"].erase(1);  // Split alone: not byte-level
  EXPECT_TRUE(has(load_error(j, "no_byte_level"), "ByteLevel"));
  j = base;
  j["added_tokens"][0].erase("content");
  EXPECT_TRUE(has(load_error(j, "added"), "added_tokens[0]"));
  const auto t = core::load_hf_tokenizer(kLlama3);
  EXPECT_THROW(t->decode({275}), core::Error);
  EXPECT_THROW(t->decode({-1}), core::Error);
}

TEST(HfTokenizer, LoadTokenizerPrecedence) {
  const std::string json = read(kLlama3);
  // tokenizer.json alone, or named directly.
  const std::string hf_only = temp_dir("hf_only");
  write(hf_only, "tokenizer.json", json);
  EXPECT_EQ(core::load_tokenizer(hf_only, 0)->vocab_size(), 275);
  EXPECT_EQ(core::load_tokenizer(kGpt2, 0)->vocab_size(), 274);
  EXPECT_EQ(core::load_hf_tokenizer(hf_only)->vocab_size(), 275);
  // Both: the SentencePiece model wins (Llama-2's directories ship both).
  const std::string both = temp_dir("both");
  write(both, "tokenizer.json", json);
  write(both, "tokenizer.model", read(kDir + "/sp_test.model"));
  EXPECT_EQ(core::load_tokenizer(both, 0)->vocab_size(), 512);
  // A tokenizer.model that is not SentencePiece (a tiktoken file) gives way to tokenizer.json.
  const std::string tiktoken = temp_dir("tiktoken");
  write(tiktoken, "tokenizer.json", json);
  write(tiktoken, "tokenizer.model", "IQ== 0\nIg== 1\n");
  EXPECT_EQ(core::load_tokenizer(tiktoken, 0)->vocab_size(), 275);
  // tokenizer_config.json beside tokenizer.json names the EOS (Llama-3 Instruct's <|eot_id|>).
  write(tiktoken, "tokenizer_config.json", R"({"eos_token": {"content": "<|eot_id|>"}, "bos_token": "<|begin_of_text|>"})");
  EXPECT_EQ(core::load_tokenizer(tiktoken, 0)->eos_id(), eot_id);
  write(tiktoken, "tokenizer_config.json", R"({"eos_token": "<|nope|>"})");
  EXPECT_THROW(core::load_tokenizer(tiktoken, 0), core::Error);
  // Neither: the error names what was looked for.
  try {
    core::load_tokenizer(temp_dir("empty"), 32000);
    ADD_FAILURE();
  } catch (const core::Error& e) {
    EXPECT_TRUE(has(e.what(), "tokenizer.model") && has(e.what(), "tokenizer.json")) << e.what();
  }
}
