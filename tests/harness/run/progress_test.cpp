// Progress lines (plain and live) and the repository-root search.
#include "harness/run/progress.hpp"
#include "harness/run/repo_root.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace jenga::harness {
namespace {

PlannedRun sample() {
  PlannedRun r;
  r.key = "0123456789abcdef";
  r.experiment = "e";
  r.profile = "h100";
  r.task = "train-bench";
  r.params = Json{{"seq_len", 4096}, {"method", "jenga"}};
  return r;
}

TEST(Progress, PlainLines) {
  std::ostringstream os;
  Progress p(3, 1, /*tty=*/false, os);
  PlannedRun r = sample();
  p.skipped(r, "ok");
  p.started(r);
  RunOutcome o;
  o.key = r.key;
  o.status = "ok";
  o.duration_s = 1.24;
  o.attempts = 1;
  p.finished(r, o);
  o.status = "crashed";
  o.message = "killed by SIGSEGV (11)";
  o.log_path = "logs/e/x.jsonl";
  o.attempts = 2;
  p.finished(r, o);
  p.close();
  EXPECT_EQ(os.str(),
            "[1/3] skipped (ok) e 0123456789abcdef\n"
            "[2/3] ok e 0123456789abcdef 1.2s\n"
            "[3/3] crashed e 0123456789abcdef 1.2s (2 attempts) - killed by SIGSEGV (11) [logs/e/x.jsonl]\n");
}

TEST(Progress, LiveLineIsRedrawnWithCarriageReturns) {
  std::ostringstream os;
  Progress p(2, 1, /*tty=*/true, os);
  PlannedRun r = sample();
  p.started(r);
  RunOutcome o;
  o.status = "ok";
  o.duration_s = 2;
  p.finished(r, o);
  p.close();
  const std::string s = os.str();
  EXPECT_NE(s.find("\r\033[K[0/2] running 1"), std::string::npos) << s;
  EXPECT_NE(s.find("[1/2] running 0, ETA 2.0s"), std::string::npos) << s;
  EXPECT_EQ(s.back(), '\n');
}

TEST(Progress, Durations) {
  EXPECT_EQ(Progress::format_duration(0.04), "0.0s");
  EXPECT_EQ(Progress::format_duration(59.94), "59.9s");
  EXPECT_EQ(Progress::format_duration(125), "2m05s");
  EXPECT_EQ(Progress::format_duration(7260), "2h01m");
}

TEST(RepoRoot, WalksUpToExperimentsAndConfigs) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("experiments"));
  std::filesystem::create_directories(dir.file("configs/profiles"));
  std::filesystem::create_directories(dir.file("a/b"));
  EXPECT_EQ(find_repo_root(dir.file("a/b")), std::filesystem::path(dir.str()).lexically_normal().string());
  EXPECT_EQ(find_repo_root(dir.file("configs/profiles")), std::filesystem::path(dir.str()).lexically_normal().string());
  EXPECT_EQ(find_repo_root("/"), build_source_dir());
}

TEST(Progress, DisplayPathIsRelativeInsideTheRoot) {
  EXPECT_EQ(Progress::display_path("/r/logs/e/k.jsonl", "/r"), "logs/e/k.jsonl");
  EXPECT_EQ(Progress::display_path("/r/logs/../x.jsonl", "/r/"), "x.jsonl");
  EXPECT_EQ(Progress::display_path("/elsewhere/k.jsonl", "/r"), "/elsewhere/k.jsonl");
  EXPECT_EQ(Progress::display_path("/r/k.jsonl", ""), "/r/k.jsonl");
}

}  // namespace
}  // namespace jenga::harness
