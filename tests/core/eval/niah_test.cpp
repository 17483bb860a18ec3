// Needle in a haystack: the grid has one cell per (length, depth) with the asked number of
// trials, prompts have the asked length, trials repeat for a seed, answers are read by their
// first number, and impossible grids are refused.
#include "../io/test_dir.hpp"
#include "../model/tiny_models.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/niah.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace jenga {
namespace {

class Niah : public test::TempDirTest {
 protected:
  std::string haystack(int64_t n) {
    std::string bytes;
    const std::string text = "Some plain text about kernels and drivers.\n";
    for (int64_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(text[static_cast<size_t>(i) % text.size()]);
      bytes.push_back(static_cast<char>(c));
      bytes.push_back('\0');  // uint16 little-endian
    }
    const auto p = path("hay.u16");
    test::write_bytes(p, bytes);
    return p;
  }
};

TEST(NiahAnswers, FirstNumber) {
  EXPECT_EQ(core::first_number(" 48213. Remember"), "48213");
  EXPECT_EQ(core::first_number("key is 12 and 345"), "12");
  EXPECT_EQ(core::first_number("no digits"), "");
}

TEST_F(Niah, GridTrialsAndDeterminism) {
  auto cfg = test::tiny_llama();
  cfg.vocab_size = 256;
  core::ModelOptions o;
  o.dtype = at::kFloat;
  auto m = core::make_causal_lm(cfg, o, "", 2);
  const auto tok = core::make_byte_tokenizer();
  const core::TokenFile hay(haystack(2000), core::TokenFile::Width::U16, 256);
  core::NiahOptions opt;
  opt.lengths = {150, 200};
  opt.depths = {0.0, 0.5, 1.0};
  opt.trials = 2;
  opt.max_new_tokens = 4;
  std::vector<core::NiahTrial> seen;
  const auto cells = core::needle_in_haystack(*m, *tok, hay, opt, {}, [&](const core::NiahTrial& t) { seen.push_back(t); });
  ASSERT_EQ(cells.size(), 6u);
  ASSERT_EQ(seen.size(), 12u);
  for (const auto& c : cells) {
    EXPECT_EQ(c.trials, 2);
    EXPECT_GE(c.score, 0.0);
    EXPECT_LE(c.score, 1.0);
  }
  for (const auto& t : seen) {
    EXPECT_EQ(t.key.size(), 5u);
    EXPECT_EQ(t.score, core::first_number(t.answer) == t.key ? 1.0 : 0.0);
    EXPECT_LE(t.answer.size(), 4u);
  }
  std::vector<core::NiahTrial> again;
  core::needle_in_haystack(*m, *tok, hay, opt, {}, [&](const core::NiahTrial& t) { again.push_back(t); });
  ASSERT_EQ(again.size(), seen.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(again[i].key, seen[i].key);
    EXPECT_EQ(again[i].answer, seen[i].answer);
  }
}

TEST_F(Niah, ImpossibleGridsAreErrors) {
  auto m = core::make_causal_lm([] { auto c = test::tiny_llama(); c.vocab_size = 256; return c; }(), core::ModelOptions{}, "", 2);
  const auto tok = core::make_byte_tokenizer();
  const core::TokenFile hay(haystack(300), core::TokenFile::Width::U16, 256);
  core::NiahOptions opt;
  opt.lengths = {200};
  opt.depths = {1.5};
  EXPECT_THROW(core::needle_in_haystack(*m, *tok, hay, opt), core::Error);
  opt.depths = {0.5};
  opt.lengths = {400};  // longer than the haystack
  EXPECT_THROW(core::needle_in_haystack(*m, *tok, hay, opt), core::Error);
  opt.lengths = {60};  // no room around the needle and question
  EXPECT_THROW(core::needle_in_haystack(*m, *tok, hay, opt), core::Error);
  opt.lengths = {};
  EXPECT_THROW(core::needle_in_haystack(*m, *tok, hay, opt), core::Error);
}

}  // namespace
}  // namespace jenga
