// `runs_from`: an experiment that draws another's runs plans exactly that experiment's run keys
// (so the runs are made once), and every way of misusing it is an Error naming the file and line.
#include "harness/plan/plan.hpp"
#include "harness/spec/experiment.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Error;
using jenga::harness::expand;
using jenga::harness::load_experiment;
using jenga::harness::Profile;
using jenga::harness::testing::expect_error;
using jenga::harness::testing::TempTree;

namespace {

const char* kOwner =
    "name: mem\n"
    "task: train-bench\n"
    "matrix:\n"
    "  fixed: {steps: 4}\n"
    "  sweep:\n"
    "    method: [base, jenga]\n"
    "    seq_len: [1024, 2048]\n"
    "quick:\n"
    "  fixed: {steps: 2}\n";

Profile profile() {
  Profile p;
  p.name = "cpu";
  return p;
}

TEST(RunsFrom, PlansTheOwnersKeysAndKeepsItsOwnFigures) {
  TempTree t;
  t.write("experiments/mem.yaml", kOwner);
  const std::string path = t.write("experiments/time.yaml",
                                   "name: time\n"
                                   "runs_from: mem\n"
                                   "figures:\n"
                                   "  - {id: t, type: grouped_bars, x: seq_len, y: step_ms, series: method}\n");
  const auto owner = load_experiment(t.path("experiments/mem.yaml"));
  const auto borrower = load_experiment(path);
  EXPECT_EQ(borrower.runs_from, "mem");
  EXPECT_EQ(borrower.runs_name(), "mem");
  EXPECT_EQ(owner.runs_name(), "mem");
  EXPECT_EQ(borrower.task, "train-bench");
  ASSERT_EQ(borrower.figures.size(), 1u);
  for (const bool quick : {false, true}) {
    const auto a = expand(owner, profile(), {quick});
    const auto b = expand(borrower, profile(), {quick});
    ASSERT_EQ(a.size(), 4u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].key, b[i].key);
      EXPECT_EQ(b[i].experiment, "mem");
      EXPECT_EQ(a[i].params, b[i].params);
    }
  }
}

TEST(RunsFrom, OwnRunKeysBesideRunsFromAreAnError) {
  TempTree t;
  t.write("experiments/mem.yaml", kOwner);
  const std::string path = t.write("experiments/time.yaml",
                                   "name: time\n"
                                   "runs_from: mem\n"
                                   "matrix: {}\n");
  const Error e = expect_error([&] { load_experiment(path); });
  EXPECT_EQ(e.where().line, 3) << e.what();
  EXPECT_NE(std::string(e.what()).find("'matrix' belongs to the experiment named by runs_from"), std::string::npos)
      << e.what();
}

TEST(RunsFrom, MissingOwnerSelfAndChainsAreErrors) {
  TempTree t;
  t.write("experiments/mem.yaml", kOwner);
  t.write("experiments/time.yaml", "name: time\nruns_from: mem\n");
  const Error missing = expect_error(
      [&] { load_experiment(t.write("experiments/a.yaml", "name: a\nruns_from: nowhere\n")); });
  EXPECT_EQ(missing.where().line, 2) << missing.what();
  EXPECT_NE(std::string(missing.what()).find("nowhere.yaml"), std::string::npos) << missing.what();

  const Error self = expect_error([&] { load_experiment(t.write("experiments/b.yaml", "name: b\nruns_from: b\n")); });
  EXPECT_NE(std::string(self.what()).find("another experiment"), std::string::npos) << self.what();

  const Error chain =
      expect_error([&] { load_experiment(t.write("experiments/c.yaml", "name: c\nruns_from: time\n")); });
  EXPECT_NE(std::string(chain.what()).find("itself draws its runs from 'mem'"), std::string::npos) << chain.what();
}

TEST(RunsFrom, ABrokenOwnerIsReportedAtItsOwnFileAndLine) {
  TempTree t;
  t.write("experiments/mem.yaml", "name: mem\ntask: train-bench\nmatrix: [1]\n");
  const Error e = expect_error(
      [&] { load_experiment(t.write("experiments/time.yaml", "name: time\nruns_from: mem\n")); });
  EXPECT_EQ(e.where().file, t.path("experiments/mem.yaml")) << e.what();
  EXPECT_EQ(e.where().line, 3) << e.what();
}

}  // namespace
