// The fast step scanner must never accept what parse_record (nlohmann) would not, and must
// yield the same step and data when it accepts. Checked on realistic lines and on thousands
// of mutations of them (fixed seed).
#include "harness/ingest/step_scan.hpp"

#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

#include <random>

using namespace jenga::harness;
namespace proto = jenga::protocol;
using Json = proto::Json;

namespace {

std::vector<std::string> base_lines() {
  std::vector<std::string> v;
  for (int i : {0, 7, 123456}) {
    v.push_back(proto::make_step(i, {{"forward", 12.345}, {"backward", 25.5}, {"optimizer", 3.25}},
                                 {{"allocated", 12345.6}, {"peak_allocated", 23456.7}, {"reserved", 3e4}},
                                 {{"loss", 2.5}, {"lr", 1e-4}, {"kept_fraction", 0.5}, {"note", "héllo ✓ 🚀"}})
                    .dump());
  }
  v.push_back(R"({"step":3,"event":"step","loss":-0.0,"x":[1,2.5e-3,{"a":null,"b":true,"c":false}]})");
  v.push_back(R"(  {"loss":1E+2,"step":-4,"event":"step"}  )");
  v.push_back("\t{ \"event\" : \"step\" ,\n \"step\" : 0 , \"s\" : \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude80\" }\r");
  v.push_back(R"({"event":"step","step":1,"phase_ms":{},"mem_mib":{"a":{"b":[[]]}}})");
  v.push_back(R"({"event":"step","step":999999999999999999,"big":123456789012345678})");
  return v;
}

// Lines that look like step records but are not valid, or are valid in ways the scanner
// declines; either way the fast path must say false.
std::vector<std::string> tricky_lines() {
  return {
      R"({"event":"step","step":1,"event":"step"})",            // duplicate event
      R"({"ev\u0065nt":"step","step":1})",                     // escaped key equal to "event"
      R"({"event":"st\u0065p","step":1})",                     // escaped value
      R"({"event":"step","step":1e400})",                      // not an integer / overflow
      R"({"event":"step","step":1,"x":1e400})",                // overflow nlohmann rejects
      R"({"event":"step","step":1,"x":0.00001e999})",
      R"({"event":"step","step":12345678901234567890123})",    // too big for int64
      R"({"event":"step","step":01})",
      R"({"event":"step","step":1,})",
      R"({"event":"step","step":1}x)",
      R"({"event":"step","step":1,"s":"\ud800"})",             // lone high surrogate
      R"({"event":"step","step":1,"s":"\udc00"})",             // lone low surrogate
      "{\"event\":\"step\",\"step\":1,\"s\":\"\xed\xa0\x80\"}",  // UTF-8 encoded surrogate
      "{\"event\":\"step\",\"step\":1,\"s\":\"\xc0\xaf\"}",      // overlong
      "{\"event\":\"step\",\"step\":1,\"s\":\"\xf4\x90\x80\x80\"}",  // > U+10FFFF
      "{\"event\":\"step\",\"step\":1,\"s\":\"a\tb\"}",          // raw control char
      R"({"event":"step","step":1,"phase_ms":[]})",
      R"({"event":"step","step":1.0})",
      R"({"event":"step"})",
      R"({"event":"metric","name":"x","value":1})",
      R"({"event":"step","step":1,"x":tru})",
      R"({"event":"step","step":1,"x":-})",
      R"({"event":"step","step":1,"x":1.})",
      R"({"event":"step","step":1,"x":.5})",
      R"({"event":"step","step":1,"x":+1})",
      R"({"event":"step","step":1,"x":1e})",
      R"({"event":"step","step":1,"x":"\x"})",
      R"({"event":"step","step":1,"x":"\u12"})",
      "{\"event\":\"step\",\"step\":1,\"x\":\"\\u0000\"}",
      std::string("{\"event\":\"step\",\"step\":1,\"x\":\"a\0b\"}", 33),
      R"({"event":"step","step":1} {"event":"step","step":2})",
  };
}

// The authority's verdict, checked against the scanner's.
void check_agrees(const std::string& line, int& fast_accepts) {
  ScannedStep s;
  const bool fast = scan_step_record(line, s);
  if (!fast) return;
  ++fast_accepts;
  const auto r = proto::parse_record(line);
  ASSERT_TRUE(r.record) << "scanner accepted what parse_record rejects (" << r.error << "): " << line;
  ASSERT_EQ(r.record->event, proto::Event::Step) << line;
  EXPECT_EQ(r.record->body["step"].get<std::int64_t>(), s.step) << line;
  Json expect = r.record->body;
  expect.erase("event");
  const Json got = Json::parse(s.data, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << "scanner data is not JSON: " << s.data;
  EXPECT_EQ(got, expect) << line;
}

}  // namespace

TEST(StepScan, AcceptsRealisticStepsWithSameContent) {
  int accepts = 0;
  for (const auto& line : base_lines()) {
    ScannedStep s;
    EXPECT_TRUE(scan_step_record(line, s)) << line;
    check_agrees(line, accepts);
  }
  EXPECT_EQ(accepts, static_cast<int>(base_lines().size()));
  ScannedStep s;
  ASSERT_TRUE(scan_step_record(R"({"event":"step","step":1,"loss":2})", s));
  EXPECT_EQ(s.data, R"({"step":1,"loss":2})");
  ASSERT_TRUE(scan_step_record(R"({"a":1 , "event":"step" , "step":2})", s));
  EXPECT_EQ(s.data, R"({"a":1 , "step":2})");
  ASSERT_TRUE(scan_step_record(R"({"step":3,"event":"step"})", s));
  EXPECT_EQ(s.data, R"({"step":3})");
  EXPECT_EQ(s.step, 3);
}

TEST(StepScan, DeclinesTrickyLines) {
  for (const auto& line : tricky_lines()) {
    ScannedStep s;
    const bool fast = scan_step_record(line, s);
    int accepts = 0;
    check_agrees(line, accepts);
    // Those nlohmann rejects must never pass; the others are allowed to be declined.
    if (!proto::parse_record(line).record) {
      EXPECT_FALSE(fast) << line;
    }
  }
  ScannedStep s;
  EXPECT_TRUE(scan_step_record("{\"event\":\"step\",\"step\":1,\"x\":\"\\u0000\"}", s));  // valid, accepted
}

TEST(StepScan, MutationsNeverFoolIt) {
  std::mt19937 rng(20250611);
  const std::string alphabet = "{}[]\":,.-+eE0123456789 \t\\/untrfalsebx\x01\x7f\xc3\xa9\xed\xf0\xff";
  const auto bases = base_lines();
  int accepts = 0, total = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string line = bases[rng() % bases.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !line.empty(); ++e) {
      const std::size_t pos = rng() % line.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 5) {
        case 0: line[pos] = c; break;
        case 1: line.insert(line.begin() + static_cast<long>(pos), c); break;
        case 2: line.erase(pos, 1 + rng() % 4); break;
        case 3: line.resize(pos); break;
        case 4: line.insert(pos, line.substr(rng() % line.size(), rng() % 12)); break;
      }
    }
    ++total;
    check_agrees(line, accepts);
    if (HasFatalFailure()) return;
  }
  // Not vacuous: plenty of mutants stay valid (digits changed, spaces added) and take the fast path.
  EXPECT_GT(accepts, total / 20) << accepts << " of " << total;
  EXPECT_LT(accepts, total) << "no mutant was invalid?";
  std::printf("fast path took %d of %d mutated lines\n", accepts, total);
}

TEST(StepScan, NestingDepth) {
  EXPECT_EQ(json_nesting_depth("1"), 0);
  EXPECT_EQ(json_nesting_depth(R"({"a":[{"b":"[[[["}]})"), 3);
  EXPECT_EQ(json_nesting_depth(R"({"a":"\"[[[" })"), 1);
}
