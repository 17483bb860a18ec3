#include <jenga/protocol/record.hpp>

#include <gtest/gtest.h>

using namespace jenga::protocol;

TEST(Record, BuildersRoundTripThroughParse) {
  const Json recs[] = {
      make_start("train-bench", {{"seq_len", 4096}}, {{"gpu", "H100"}}),
      make_step(3, {{"forward", 1.5}}, {{"peak_allocated", 100.0}}, {{"loss", 2.5}}),
      make_metric("ppl", 12.5, "", {{"length", 4096}}),
      make_summary({{"peak_mib", 1.0}}),
      make_end(Status::Oom, "CUDA out of memory"),
      make_run("exp", "h100", "abcd", "train-bench", {{"a", 1}}, Json::array({"w"}), 1, "t"),
      make_exit(Status::Timeout, nullptr, 9, 1.5, "t"),
  };
  const Event expect[] = {Event::Start, Event::Step, Event::Metric, Event::Summary, Event::End, Event::Run, Event::Exit};
  for (size_t i = 0; i < std::size(recs); ++i) {
    const auto r = parse_record(recs[i].dump());
    ASSERT_TRUE(r.record) << recs[i].dump() << ": " << r.error;
    EXPECT_EQ(r.record->event, expect[i]);
    EXPECT_EQ(r.record->body, recs[i]);
  }
  EXPECT_EQ(make_step(1, {}, {}, {{"loss", 1.0}})["loss"], 1.0);
}

TEST(Record, FreeTextIsNotARecord) {
  for (const char* line : {"", "hello", "  [stderr] x", "Epoch 1 {"}) {
    const auto r = parse_record(line);
    EXPECT_FALSE(r.is_record_line) << line;
    EXPECT_FALSE(r.record);
  }
}

TEST(Record, MalformedRecordLinesSayWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {"{\"x\":1}", "missing string field \"event\""},
      {"{\"event\":\"bogus\"}", "unknown event"},
      {"{\"event\":\"step\"}", "integer \"step\""},
      {"{\"event\":\"step\",\"step\":1.5}", "integer \"step\""},
      {"{\"event\":\"metric\",\"name\":\"x\",\"value\":\"high\"}", "number or null"},
      {"{\"event\":\"end\",\"status\":\"great\"}", "unknown status"},
      {"{\"event\":\"start\",\"task\":\"t\"}", "params"},
      {"{\"event\":\"summary\",\"values\":[1]}", "values"},
      {"{\"event\":\"run\",\"experiment\":\"e\"}", "run:"},
  };
  for (const auto& [line, why] : cases) {
    const auto r = parse_record(line);
    EXPECT_TRUE(r.is_record_line) << line;
    EXPECT_FALSE(r.record) << line;
    EXPECT_NE(r.error.find(why), std::string::npos) << line << " -> " << r.error;
  }
}

TEST(Record, StatusNamesRoundTrip) {
  for (auto s : {Status::Ok, Status::Oom, Status::Diverged, Status::Error, Status::Timeout, Status::Crashed, Status::Killed})
    EXPECT_EQ(status_from_string(to_string(s)), s);
  EXPECT_FALSE(status_from_string("OK"));
  EXPECT_TRUE(is_harness_event(Event::Run));
  EXPECT_FALSE(is_harness_event(Event::End));
}
