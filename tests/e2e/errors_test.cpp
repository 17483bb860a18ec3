// What users get wrong: malformed specs (exit 2, file:line message), a worker that does not
// exist (the runs end as error, the harness does not crash), usage mistakes, --help.
#include "e2e_support.hpp"

#include "harness/store/store.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace jenga::e2e {
namespace {

using harness::Store;

TEST(E2E, MalformedExperimentIsASpecErrorWithFileAndLine) {
  TempRepo repo;
  repo.write("experiments/bad.yaml", "name: bad\ntask: t\nmatrix:\n  fixed: {steps: 1}\n  swep:\n    i: [1, 2]\n");
  Result r = jenga(repo, {"run", "bad", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker});
  EXPECT_EQ(r.rc, 2) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(^jenga: .*bad\.yaml:5:\d+: )"))) << r.err;
  EXPECT_FALSE(std::filesystem::exists(repo.path("logs"))) << "nothing ran";

  repo.write("experiments/broken.yaml", "name: broken\ntask: [unclosed\n");
  r = jenga(repo, {"run", "broken", "--profile", "cpu", "--root", repo.root()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(broken\.yaml:\d+)"))) << r.err;

  r = jenga(repo, {"list", "--root", repo.root()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("bad.yaml:5"), std::string::npos) << r.err;
}

TEST(E2E, MissingWorkerEndsRunsAsErrorNotAHarnessCrash) {
  TempRepo repo;
  repo.write("experiments/w.yaml", "name: w\ntask: t\nmatrix:\n  sweep:\n    i: [1, 2]\n");
  const std::string missing = repo.path("no/such/worker");
  const Result r = jenga(repo, {"run", "w", "--profile", "cpu", "--root", repo.root(), "--worker", missing});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: worker " + missing), std::string::npos) << r.err;
  Store store(repo.db());
  const auto rows = store.runs("w");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, "error");
    EXPECT_NE(row.message.find(missing), std::string::npos) << row.message;
  }
  EXPECT_NE(r.out.find("2 error"), std::string::npos) << r.out;
}

TEST(E2E, UsageMistakesAndHelp) {
  TempRepo repo;
  repo.write("experiments/u.yaml", "name: u\ntask: t\nmatrix:\n  fixed: {behaviour: ok}\n");
  EXPECT_EQ(jenga(repo, {"run", "u", "--root", repo.root()}).rc, 2) << "--profile is required";
  EXPECT_EQ(jenga(repo, {"run", "u", "--profile", "nope", "--root", repo.root()}).rc, 2);
  EXPECT_EQ(jenga(repo, {"run", "missing", "--profile", "cpu", "--root", repo.root()}).rc, 2);
  EXPECT_EQ(jenga(repo, {"run", "u", "--profile", "cpu", "--bogus", "--root", repo.root()}).rc, 2);
  EXPECT_EQ(jenga(repo, {"run", "u", "--profile", "cpu", "--retry", "x", "--root", repo.root()}).rc, 2);
  EXPECT_EQ(jenga(repo, {"run", "u", "--profile", "cpu", "--filter", "nokey=1", "--root", repo.root()}).rc, 2);
  EXPECT_EQ(jenga(repo, {"frobnicate"}).rc, 2);
  EXPECT_EQ(jenga(repo, {}).rc, 2);
  const Result help = jenga(repo, {"--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("usage: jenga"), std::string::npos);
  for (const char* cmd : {"list", "run", "status", "ingest", "report"}) {
    const Result h = jenga(repo, {cmd, "--help"});
    EXPECT_EQ(h.rc, 0) << cmd;
    EXPECT_NE(h.out.find(std::string("usage: jenga ") + cmd), std::string::npos) << cmd << ": " << h.out;
  }
  const Result st = jenga(repo, {"status", "--root", repo.root()});
  EXPECT_EQ(st.rc, 0);
  EXPECT_NE(st.out.find("no results database"), std::string::npos) << st.out;
}

TEST(E2E, MemoryCapKeepsCappedRunsApart) {
  TempRepo repo;
  repo.write("experiments/m.yaml", "name: m\ntask: t\nmatrix:\n  fixed: {behaviour: ok}\n");
  EXPECT_EQ(jenga(repo, {"run", "m", "--profile", "cpu", "--memory-cap", "0", "--root", repo.root(), "--worker", kFakeWorker}).rc, 2);
  EXPECT_EQ(jenga(repo, {"run", "m", "--profile", "cpu", "--memory-cap", "4x", "--root", repo.root(), "--worker", kFakeWorker}).rc, 2);
  const Result capped = jenga(repo, {"run", "m", "--profile", "cpu", "--memory-cap", "12", "--root", repo.root(), "--worker", kFakeWorker});
  EXPECT_EQ(capped.rc, 0) << capped.out << capped.err;
  const Result plain = jenga(repo, {"run", "m", "--profile", "cpu", "--root", repo.root(), "--worker", kFakeWorker});
  EXPECT_EQ(plain.rc, 0) << plain.out << plain.err;
  Store store(repo.db());
  std::set<std::string> profiles;
  for (const auto& row : store.runs("m")) profiles.insert(row.profile);
  EXPECT_EQ(profiles, (std::set<std::string>{"cpu", "cpu-cap12"})) << "a capped run is not the uncapped one resumed";
}

}  // namespace
}  // namespace jenga::e2e
