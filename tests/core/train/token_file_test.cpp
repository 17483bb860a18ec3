// Packed token files: raw uint16/uint32 and llm.c's headered format read back exactly; sequences
// deterministic per seed and covering the file; truncated, mislabelled and out-of-vocabulary
// files are errors naming the file.
#include "../io/test_dir.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/train/token_file.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

using namespace jenga;
using core::TokenFile;

namespace {

std::string le(uint32_t v, int bytes) {
  std::string s(bytes, '\0');
  for (int i = 0; i < bytes; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string tokens(const std::vector<uint32_t>& t, int bytes) {
  std::string s;
  for (auto v : t) s += le(v, bytes);
  return s;
}

std::string llmc_header(int version, int32_t n) {
  std::string h = le(20240520, 4) + le(version, 4) + le(static_cast<uint32_t>(n), 4);
  h.resize(1024, '\0');
  return h;
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const core::Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

class TokenFileTest : public test::TempDirTest {};

}  // namespace

TEST_F(TokenFileTest, RawUint16AndUint32ReadBack) {
  std::vector<uint32_t> t = {0, 1, 65535, 7, 300, 2};
  test::write_bytes(path("a.bin"), tokens(t, 2));
  const TokenFile f16(path("a.bin"), TokenFile::Width::U16, 65536);
  EXPECT_EQ(f16.num_tokens(), 6);
  EXPECT_TRUE(at::equal(f16.window(1, 3), at::tensor({1L, 65535L, 7L})));
  std::vector<uint32_t> big = {100000, 5, 128255, 0};
  test::write_bytes(path("b.bin"), tokens(big, 4));
  const TokenFile f32(path("b.bin"), TokenFile::Width::U32, 128256);
  EXPECT_TRUE(at::equal(f32.window(0, 4), at::tensor({100000L, 5L, 128255L, 0L})));
}

TEST_F(TokenFileTest, LlmcHeaderIsDetected) {
  test::write_bytes(path("c.bin"), llmc_header(1, 3) + tokens({9, 8, 7}, 2));
  const TokenFile a(path("c.bin"), TokenFile::Width::Auto, 10);
  EXPECT_EQ(a.num_tokens(), 3);
  EXPECT_TRUE(at::equal(a.window(0, 3), at::tensor({9L, 8L, 7L})));
  test::write_bytes(path("d.bin"), llmc_header(2, 2) + tokens({70000, 1}, 4));
  EXPECT_TRUE(at::equal(TokenFile(path("d.bin"), TokenFile::Width::Auto, 80000).window(0, 2), at::tensor({70000L, 1L})));
  expect_error([&] { TokenFile(path("d.bin"), TokenFile::Width::U16, 80000); }, {"d.bin", "32-bit"});
}

TEST_F(TokenFileTest, SequencesAreDeterministicAndCoverEveryWindow) {
  std::vector<uint32_t> t(100);
  for (uint32_t i = 0; i < 100; ++i) t[i] = i;
  test::write_bytes(path("s.bin"), tokens(t, 2));
  const TokenFile f(path("s.bin"), TokenFile::Width::U16, 100);
  std::set<int64_t> starts;
  for (int i = 0; i < 10; ++i) {
    const auto s = f.sequence(i, 10, 42);
    EXPECT_TRUE(at::equal(s, f.sequence(i, 10, 42)));
    starts.insert(s[0].item<int64_t>());
  }
  EXPECT_EQ(starts.size(), 10u);  // one epoch visits every window once
  EXPECT_FALSE(at::equal(f.sequence(0, 10, 1), f.sequence(0, 10, 2)) && at::equal(f.sequence(1, 10, 1), f.sequence(1, 10, 2)));
}

TEST_F(TokenFileTest, BadFilesAreErrorsNamingTheFile) {
  test::write_bytes(path("odd.bin"), std::string(7, '\1'));
  expect_error([&] { TokenFile(path("odd.bin"), TokenFile::Width::U16, 1000); }, {"odd.bin", "truncated"});
  expect_error([&] { TokenFile(path("odd.bin"), TokenFile::Width::Auto, 1000); }, {"odd.bin", "uint16 or uint32"});
  test::write_bytes(path("empty.bin"), "");
  expect_error([&] { TokenFile(path("empty.bin"), TokenFile::Width::U16, 1000); }, {"empty.bin", "empty"});
  expect_error([&] { TokenFile(path("none.bin"), TokenFile::Width::U16, 1000); }, {"none.bin", "cannot open"});
  test::write_bytes(path("short.bin"), llmc_header(1, 5) + tokens({1, 2}, 2));
  expect_error([&] { TokenFile(path("short.bin"), TokenFile::Width::Auto, 1000); }, {"short.bin", "promises 5 tokens"});
  test::write_bytes(path("ver.bin"), llmc_header(3, 1) + tokens({1}, 2));
  expect_error([&] { TokenFile(path("ver.bin"), TokenFile::Width::Auto, 1000); }, {"ver.bin", "version 3"});
  test::write_bytes(path("oov.bin"), tokens({1, 2, 999}, 2));
  const TokenFile f(path("oov.bin"), TokenFile::Width::U16, 500);
  expect_error([&] { f.window(0, 3); }, {"oov.bin", "token 999", "position 2"});
  expect_error([&] { f.window(2, 5); }, {"oov.bin", "outside the file"});
  expect_error([&] { f.sequence(0, 10, 0); }, {"oov.bin", "cannot fill"});
}
