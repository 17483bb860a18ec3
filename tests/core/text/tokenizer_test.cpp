// Tokenizers: bytes round-trip any string; our SentencePiece BPE gives the reference
// implementation's ids (spm_encode) on the committed fixture model, decode inverts encode, bad
// input is an Error.
#include "jenga/core/error.hpp"
#include "jenga/core/text/tokenizer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace jenga;

namespace {

const std::string kDir = std::string(JENGA_TEST_FIXTURES) + "/tokenizer";

std::vector<std::string> lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(Tokenizer, BytesRoundTripAnything) {
  const auto t = core::make_byte_tokenizer();
  const std::string s = "Über naïve café\n\t\x01\xff";
  const auto ids = t->encode(s);
  ASSERT_EQ(ids.size(), s.size());
  EXPECT_EQ(ids[0], 0xC3);
  EXPECT_EQ(t->decode(ids), s);
  EXPECT_EQ(t->vocab_size(), 256);
  EXPECT_THROW(t->decode({256}), core::Error);
}

TEST(Tokenizer, SentencePieceMatchesTheReferenceIds) {
  const auto t = core::load_sentencepiece(kDir + "/sp_test.model");
  EXPECT_EQ(t->vocab_size(), 512);
  EXPECT_EQ(t->bos_id(), 1);
  EXPECT_EQ(t->eos_id(), 2);
  const auto samples = lines(kDir + "/sp_samples.txt"), expected = lines(kDir + "/sp_expected_ids.txt");
  ASSERT_EQ(samples.size(), expected.size());
  ASSERT_FALSE(samples.empty());
  for (size_t i = 0; i < samples.size(); ++i) {
    std::vector<int64_t> want;
    std::istringstream in(expected[i]);
    for (int64_t id; in >> id;) want.push_back(id);
    const auto got = t->encode(samples[i]);
    EXPECT_EQ(got, want) << "line " << i + 1 << ": " << samples[i];
    EXPECT_EQ(t->decode(got), samples[i]) << "line " << i + 1;
  }
  EXPECT_THROW(t->decode({512}), core::Error);
}

TEST(Tokenizer, LoadingErrorsNameThePath) {
  try {
    core::load_sentencepiece(kDir + "/missing.model");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.model"), std::string::npos);
  }
  EXPECT_THROW(core::load_sentencepiece(kDir + "/README.md"), core::Error);
  EXPECT_EQ(core::load_tokenizer(kDir, 256)->vocab_size(), 256);  // no tokenizer.model there: bytes
  EXPECT_THROW(core::load_tokenizer(kDir, 32000), core::Error);
}
