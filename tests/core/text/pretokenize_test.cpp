// The hand-written matchers for GPT-2's and Llama-3's pre-tokenizer regexes split as the regexes do
// (cases worked out from the regexes' leftmost-first alternation), and cover any bytes.
#include "text/pretokenize.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace jenga::core;
using Pieces = std::vector<std::string>;

namespace {

Pieces split(pretokenize::Pattern p, const std::string& text) {
  std::vector<std::string_view> out;
  pretokenize::split(p, text, out);
  return Pieces(out.begin(), out.end());
}
Pieces gpt2(const std::string& t) { return split(pretokenize::Pattern::Gpt2, t); }
Pieces llama3(const std::string& t) { return split(pretokenize::Pattern::Llama3, t); }

}  // namespace

TEST(Pretokenize, RecognisesExactlyTheTwoPatterns) {
  EXPECT_EQ(pretokenize::recognise(pretokenize::kGpt2Pattern), pretokenize::Pattern::Gpt2);
  EXPECT_EQ(pretokenize::recognise(pretokenize::kLlama3Pattern), pretokenize::Pattern::Llama3);
  EXPECT_EQ(pretokenize::recognise(std::string(pretokenize::kGpt2Pattern) + "|x"), std::nullopt);
  EXPECT_EQ(pretokenize::recognise(R"(\s+)"), std::nullopt);
}

TEST(Pretokenize, Gpt2) {
  EXPECT_EQ(gpt2(""), Pieces{});
  EXPECT_EQ(gpt2("Hello world"), (Pieces{"Hello", " world"}));
  // A run of spaces leaves its last one to the next word; at the end it stays whole.
  EXPECT_EQ(gpt2("Hello   world   "), (Pieces{"Hello", "  ", " world", "   "}));
  // Contractions are case-sensitive: 'T is punctuation then a letter.
  EXPECT_EQ(gpt2("don't DON'T it's we're"), (Pieces{"don", "'t", " DON", "'", "T", " it", "'s", " we", "'re"}));
  EXPECT_EQ(gpt2("x  !! 1234567"), (Pieces{"x", " ", " !!", " 1234567"}));
  // Only an ASCII space prefixes a word; a single newline before a letter is its own piece.
  EXPECT_EQ(gpt2("a\n\n\nb"), (Pieces{"a", "\n\n", "\n", "b"}));
  EXPECT_EQ(gpt2("\tfoo"), (Pieces{"\t", "foo"}));
  EXPECT_EQ(gpt2("(foo)"), (Pieces{"(", "foo", ")"}));
  // Unicode classes: ½ is No, ٣ is Nd, a combining acute is Mn (not a letter), emoji are symbols.
  EXPECT_EQ(gpt2("\u00bd \u0663\u0664 na\u00efve e\u0301"), (Pieces{"\u00bd", " \u0663\u0664", " na\u00efve", " e", "\u0301"}));
  EXPECT_EQ(gpt2("a \U0001F600\U0001F680 \u4f60\u597d"), (Pieces{"a", " \U0001F600\U0001F680", " \u4f60\u597d"}));
  // U+3000 and U+00A0 are whitespace; they never join a word.
  EXPECT_EQ(gpt2("a\u3000b\u00a0\u00a0c"), (Pieces{"a", "\u3000", "b", "\u00a0", "\u00a0", "c"}));
}

TEST(Pretokenize, Llama3) {
  EXPECT_EQ(llama3("Hello world"), (Pieces{"Hello", " world"}));
  // Contractions in any case; long s (U+017F) folds to s.
  EXPECT_EQ(llama3("DON'T we'Re"), (Pieces{"DON", "'T", " we", "'Re"}));
  EXPECT_EQ(llama3("'\u017fx"), (Pieces{"'\u017f", "x"}));
  // Numbers three digits at a time, apart from letters.
  EXPECT_EQ(llama3("1234567 abc123def"), (Pieces{"123", "456", "7", " abc", "123", "def"}));
  EXPECT_EQ(llama3("\u0663\u0664\u0665\u0666"), (Pieces{"\u0663\u0664\u0665", "\u0666"}));
  // Any one non-letter (tab, punctuation) but a line break may lead a word.
  EXPECT_EQ(llama3("\tfoo hello.world (bar)"), (Pieces{"\tfoo", " hello", ".world", " (", "bar", ")"}));
  // Line breaks: whitespace up to the last break is one piece; punctuation keeps its breaks.
  EXPECT_EQ(llama3("a\n\n\nb"), (Pieces{"a", "\n\n\n", "b"}));
  EXPECT_EQ(llama3("x \n\n  y"), (Pieces{"x", " \n\n", " ", " y"}));
  EXPECT_EQ(llama3("a\r\nb"), (Pieces{"a", "\r\n", "b"}));
  EXPECT_EQ(llama3(" !!\n\nx"), (Pieces{" !!\n\n", "x"}));
  EXPECT_EQ(llama3("end.  "), (Pieces{"end", ".", "  "}));
}

TEST(Pretokenize, MalformedBytesAreSymbols) {
  EXPECT_EQ(gpt2("a\xff\xfe b"), (Pieces{"a", "\xff\xfe", " b"}));
  EXPECT_EQ(gpt2(" \xc3"), (Pieces{" \xc3"}));           // truncated sequence
  EXPECT_EQ(gpt2("\xed\xa0\x80z"), (Pieces{"\xed\xa0\x80", "z"}));  // an encoded surrogate
  EXPECT_EQ(llama3("\xc0\xafx"), (Pieces{"\xc0\xaf", "x"}));  // an overlong '/': two symbols
}

TEST(Pretokenize, PiecesCoverAnyBytes) {
  std::mt19937 rng(7);
  const std::vector<std::string> parts = {"a", "Z", "\u00e9", "1", "\u0663", " ", "  ", "\n", "\r\n", "\t", "'", "'s", "'LL",
                                          "!", "\U0001F600", "\u4f60", "\u00a0", "\xff", "\xe2\x82", "\u0301"};
  for (int n = 0; n < 500; ++n) {
    std::string text;
    for (int k = std::uniform_int_distribution<int>(0, 24)(rng); k > 0; --k) text += parts[rng() % parts.size()];
    for (auto p : {pretokenize::Pattern::Gpt2, pretokenize::Pattern::Llama3}) {
      std::string joined;
      for (const auto& piece : split(p, text)) {
        ASSERT_FALSE(piece.empty());
        joined += piece;
      }
      EXPECT_EQ(joined, text);
    }
  }
}
