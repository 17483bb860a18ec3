#include "harness/run/scheduler.hpp"

#include <gtest/gtest.h>

namespace jenga::harness {
namespace {

struct Case {
  const char* name;
  ExitObservation obs;
  const char* expected;
};

ExitObservation obs(bool timed_out, bool interrupted, int code, int sig, const char* end, bool oom) {
  ExitObservation o;
  o.timed_out = timed_out;
  o.interrupted = interrupted;
  o.exit_code = code;
  o.signal = sig;
  o.end_status = end;
  o.oom_text_seen = oom;
  return o;
}

TEST(ClassifyExit, Table) {
  const Case cases[] = {
      {"clean ok", obs(false, false, 0, 0, "ok", false), "ok"},
      {"worker oom, exit 3", obs(false, false, 3, 0, "oom", false), "oom"},
      {"worker diverged", obs(false, false, 0, 0, "diverged", false), "diverged"},
      {"worker error, exit 1", obs(false, false, 1, 0, "error", false), "error"},
      {"ok record but non-zero exit", obs(false, false, 2, 0, "ok", false), "error"},
      {"no end record, exit 0", obs(false, false, 0, 0, "", false), "crashed"},
      {"no end record, exit 1", obs(false, false, 1, 0, "", false), "crashed"},
      {"no end record, oom text", obs(false, false, 1, 0, "", true), "oom"},
      {"segfault", obs(false, false, 0, 11, "", false), "crashed"},
      {"segfault after ok end", obs(false, false, 0, 11, "ok", false), "crashed"},
      {"SIGKILL from the kernel OOM killer, oom text", obs(false, false, 0, 9, "", true), "oom"},
      {"abort after oom end record", obs(false, false, 0, 6, "oom", false), "oom"},
      {"timeout wins over everything", obs(true, false, 0, 9, "ok", true), "timeout"},
      {"timeout wins over interrupt", obs(true, true, 0, 15, "", false), "timeout"},
      {"interrupted", obs(false, true, 0, 15, "", false), "killed"},
      {"interrupted though it ended ok", obs(false, true, 0, 0, "ok", false), "killed"},
      {"oom text does not override an ok end", obs(false, false, 0, 0, "ok", true), "ok"},
      {"oom text does not override an error end", obs(false, false, 1, 0, "error", true), "error"},
  };
  for (const Case& c : cases) EXPECT_EQ(classify_exit(c.obs), c.expected) << c.name;
}

}  // namespace
}  // namespace jenga::harness
