// The tee format: records verbatim, stderr and spoofed harness records marked as text, the end
// status and out-of-memory text noticed, long and unterminated lines handled.
#include "harness/run/log_sink.hpp"
#include "harness/run/output_tee.hpp"

#include "tests/harness/temp_dir.hpp"

#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

namespace jenga::harness {
namespace {

namespace proto = jenga::protocol;
using test::read_file;
using test::read_lines;
using test::TempDir;

TEST(OutputTee, RecordsVerbatimStderrPrefixedSpoofsEscaped) {
  TempDir dir;
  const std::string path = dir.file("a/b/log.jsonl");  // directories are created
  {
    LogSink log(path);
    OutputTee tee(log);
    const std::string start = proto::make_start("t", {{"x", 1}}, proto::Json::object()).dump();
    tee.stdout_line(start);
    tee.stdout_line("plain text");
    tee.stderr_line("warning: something");
    tee.stderr_line(R"({"event":"end","status":"ok"})");  // stderr never counts as a record
    tee.stdout_line(proto::make_exit(proto::Status::Ok, 0, nullptr, 1.0, "now").dump());
    tee.stdout_line(R"(  {"event":"run"})");                 // incomplete, but it claims `run`
    tee.stdout_line(R"({"event":"end","status":"oom","message":"CUDA"})");
    EXPECT_EQ(tee.end_status(), "oom");
    EXPECT_EQ(tee.end_message(), "CUDA");
    EXPECT_EQ(tee.spoofed_lines(), 2);
    EXPECT_FALSE(tee.oom_text_seen());  // a well-formed record is not a complaint
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0].front(), '{');
  EXPECT_EQ(lines[1], "plain text");
  EXPECT_EQ(lines[2], "[stderr] warning: something");
  EXPECT_EQ(lines[3], R"([stderr] {"event":"end","status":"ok"})");
  EXPECT_EQ(lines[4].rfind("[spoofed] {", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5], R"([spoofed]   {"event":"run"})");
  EXPECT_EQ(lines[6], R"({"event":"end","status":"oom","message":"CUDA"})");
  // Nothing a worker printed parses as a harness record.
  for (const auto& l : lines) {
    const auto pr = proto::parse_record(l);
    if (pr.record) {
      EXPECT_FALSE(proto::is_harness_event(pr.record->event)) << l;
    }
  }
}

TEST(OutputTee, OomText) {
  for (const char* text : {"RuntimeError: CUDA out of memory. Tried to allocate 2 GiB",
                           "torch.OutOfMemoryError: boom", "terminate called after throwing an instance of 'std::bad_alloc'",
                           "CUDA error: out of memory", "OUT OF MEMORY"}) {
    EXPECT_TRUE(mentions_oom(text)) << text;
  }
  for (const char* text : {"memory: 12 GiB", "out of time", "bad alloc"}) EXPECT_FALSE(mentions_oom(text)) << text;

  TempDir dir;
  LogSink log(dir.file("l"));
  OutputTee a(log), b(log), c(log);
  a.stderr_line("CUDA out of memory");
  b.stdout_line("{not json but says out of memory");  // a broken record line is text
  c.stdout_line(proto::make_metric("out of memory events", 0, "").dump());
  EXPECT_TRUE(a.oom_text_seen());
  EXPECT_TRUE(b.oom_text_seen());
  EXPECT_FALSE(c.oom_text_seen());
}

TEST(LineSplitter, SplitsAcrossChunksAndFlushesTheLastLine) {
  TempDir dir;
  const std::string path = dir.file("l");
  {
    LogSink log(path);
    OutputTee tee(log);
    LineSplitter s(tee, LineSplitter::Channel::Stdout);
    const std::string text = "one\ntw";
    s.feed(text.data(), text.size());
    s.feed("o\n\nthr", 6);
    s.feed("ee", 2);
    s.finish();
    LineSplitter e(tee, LineSplitter::Channel::Stderr);
    e.feed("x\ny", 3);
    e.finish();
  }
  EXPECT_EQ(read_file(path), "one\ntwo\n\nthree\n[stderr] x\n[stderr] y\n");
}

TEST(LineSplitter, CutsOverlongLines) {
  TempDir dir;
  const std::string path = dir.file("l");
  {
    LogSink log(path);
    OutputTee tee(log);
    LineSplitter s(tee, LineSplitter::Channel::Stdout, /*max_line=*/8);
    const std::string text = "0123456789abcdef\nshort\n";
    s.feed(text.data(), 5);
    s.feed(text.data() + 5, text.size() - 5);
    s.finish();
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "01234567");
  EXPECT_EQ(lines[1], "[harness] previous line cut at 8 bytes; 8 bytes dropped");
  EXPECT_EQ(lines[2], "short");
}

TEST(LogSink, AppendsAndRepairsAnUnterminatedLastLine) {
  TempDir dir;
  const std::string path = dir.file("l");
  test::write_file(path, "{\"event\":\"run\" cut by kill -9");
  {
    LogSink log(path);
    log.write_line("next");
    log.write_line("[p] ", "x");
  }
  EXPECT_EQ(read_file(path), "{\"event\":\"run\" cut by kill -9\nnext\n[p] x\n");
}

TEST(LogSink, UnwritablePathIsAnError) {
  TempDir dir;
  test::write_file(dir.file("file"), "x");
  EXPECT_ANY_THROW(LogSink(dir.file("file/sub/log.jsonl")));
}

}  // namespace
}  // namespace jenga::harness
