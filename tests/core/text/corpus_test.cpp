// Corpus formats users bring are read document by document (malformed lines named by
// file:line), and packed token files round-trip through TokenFile's llm.c reader.
#include "../io/test_dir.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/text/corpus.hpp"
#include "jenga/core/text/tokenizer.hpp"
#include "jenga/core/train/token_file.hpp"
#include "jenga/core/train/token_file_writer.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace jenga {
namespace {

class Corpus : public test::TempDirTest {
 protected:
  std::vector<std::string> docs(const std::string& name, const std::string& text, core::CorpusFormat f,
                                const std::string& field = "text") {
    const auto p = path(name);
    test::write_bytes(p, text);
    std::vector<std::string> out;
    const auto n = core::for_each_document(p, f, field, [&](const std::string& d) { out.push_back(d); });
    EXPECT_EQ(n, static_cast<int64_t>(out.size()));
    return out;
  }
  std::string error(const std::string& name, const std::string& text, core::CorpusFormat f) {
    try {
      docs(name, text, f);
    } catch (const core::Error& e) {
      return e.what();
    }
    return "(no error)";
  }
};

TEST_F(Corpus, ReadsEveryFormat) {
  EXPECT_EQ(docs("a.txt", "one whole\nfile", core::CorpusFormat::Text), std::vector<std::string>{"one whole\nfile"});
  EXPECT_EQ(docs("pg19.jsonl", R"({"text": "Book one.", "meta": 1})" "\n\n" R"({"text": "Book two."})" "\n", core::CorpusFormat::Jsonl),
            (std::vector<std::string>{"Book one.", "Book two."}));
  EXPECT_EQ(docs("rp.jsonl", R"({"raw_content": "web page"})" "\n", core::CorpusFormat::Jsonl, "raw_content"),
            std::vector<std::string>{"web page"});
  EXPECT_EQ(docs("la.jsonl", R"({"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]})" "\n",
                 core::CorpusFormat::LongAlign),
            std::vector<std::string>{"user: Q?\n\nassistant: A."});
  EXPECT_EQ(docs("lb.jsonl", R"({"context": "C", "input": "I", "answers": ["A", "B"]})" "\n", core::CorpusFormat::LongBench),
            std::vector<std::string>{"C\n\nI\nA"});
  EXPECT_EQ(core::parse_corpus_format("auto", "x/train.jsonl"), core::CorpusFormat::Jsonl);
  EXPECT_EQ(core::parse_corpus_format("auto", "x/book.txt"), core::CorpusFormat::Text);
  EXPECT_THROW(core::parse_corpus_format("parquet", "x"), core::Error);
}

TEST_F(Corpus, MalformedLinesNameFileAndLine) {
  EXPECT_NE(error("b.jsonl", R"({"text": "ok"})" "\n{oops\n", core::CorpusFormat::Jsonl).find("b.jsonl:2: not a JSON object"),
            std::string::npos);
  EXPECT_NE(error("c.jsonl", R"({"body": "x"})" "\n", core::CorpusFormat::Jsonl).find("c.jsonl:1: missing field 'text'"),
            std::string::npos);
  EXPECT_NE(error("d.jsonl", R"({"text": 5})" "\n", core::CorpusFormat::Jsonl).find("d.jsonl:1: field 'text' must be a string"),
            std::string::npos);
  EXPECT_NE(error("e.jsonl", R"({"messages": "hi"})" "\n", core::CorpusFormat::LongAlign).find("e.jsonl:1: expected 'messages'"),
            std::string::npos);
}

TEST_F(Corpus, PackedFilesRoundTripThroughTokenFile) {
  const auto tok = core::make_byte_tokenizer();
  for (const bool wide : {false, true}) {
    const auto p = path(wide ? "w.bin" : "n.bin");
    core::TokenFileWriter w(p, wide);
    const auto ids = tok->encode("héllo, world");
    w.append(ids);
    w.append({7, 255});
    w.close();
    core::TokenFile f(p, core::TokenFile::Width::Auto, 256);
    ASSERT_EQ(f.num_tokens(), static_cast<int64_t>(ids.size()) + 2);
    const auto back = f.window(0, f.num_tokens());
    std::vector<int64_t> got(back.data_ptr<int64_t>(), back.data_ptr<int64_t>() + back.numel());
    EXPECT_EQ(tok->decode(std::vector<int64_t>(got.begin(), got.end() - 2)), "héllo, world");
    EXPECT_EQ(got.back(), 255);
  }
  {
    core::TokenFileWriter w(path("too_big.bin"), false);
    EXPECT_THROW(w.append({65536}), core::Error);
    EXPECT_THROW(w.append({-1}), core::Error);
  }  // destroyed without close(): nothing left under either name
  EXPECT_FALSE(core::posix_files::is_regular_file(path("too_big.bin")));
  EXPECT_FALSE(core::posix_files::is_regular_file(path("too_big.bin.partial")));
  core::TokenFileWriter empty(path("empty.bin"), false);
  EXPECT_THROW(empty.close(), core::Error);
}

}  // namespace
}  // namespace jenga
