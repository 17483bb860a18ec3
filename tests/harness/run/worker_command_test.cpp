// Worker argv, slots and their CUDA_VISIBLE_DEVICES, and the environment a worker gets.
#include "harness/common/error.hpp"
#include "harness/run/worker_command.hpp"

#include <gtest/gtest.h>

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

TEST(WorkerCommand, Argv) {
  SchedulerOptions opt;
  opt.worker_prefix_args = {"--flag"};
  const auto args = worker_args(sample(), opt, nullptr);
  EXPECT_EQ(args, (std::vector<std::string>{"--flag", "train-bench", "--run-key", "0123456789abcdef", "--params",
                                            R"({"method":"jenga","seq_len":4096})"}));
  const Json spec{{"name", "m"}};
  const auto with_model = worker_args(sample(), SchedulerOptions{}, &spec);
  ASSERT_EQ(with_model.size(), 7u);
  EXPECT_EQ(with_model[5], "--model-spec");
  EXPECT_EQ(with_model[6], R"({"name":"m"})");
}

TEST(WorkerCommand, SlotsAndDevices) {
  Profile p;
  p.gpus = 0;
  p.slots_per_gpu = 4;
  EXPECT_EQ(slot_count(p), 1);
  EXPECT_EQ(visible_devices(p, 0), "");
  p.gpus = 2;
  p.slots_per_gpu = 2;
  EXPECT_EQ(slot_count(p), 4);
  EXPECT_EQ(visible_devices(p, 0), "0");
  EXPECT_EQ(visible_devices(p, 1), "0");
  EXPECT_EQ(visible_devices(p, 2), "1");
  EXPECT_EQ(visible_devices(p, 3), "1");
}

TEST(WorkerCommand, Environment) {
  Profile p;
  p.name = "a40";
  p.gpus = 1;
  SchedulerOptions opt;
  opt.extra_env = {{"X", "1"}};
  auto env = worker_env({{"PATH", "/bin"}, {"JENGA_MEMORY_CAP_GIB", "99"}}, sample(), p, 0, opt);
  EXPECT_EQ(env.at("PATH"), "/bin");
  EXPECT_EQ(env.count("JENGA_MEMORY_CAP_GIB"), 0u) << "an inherited cap must not leak into an uncapped profile";
  EXPECT_EQ(env.at("CUDA_VISIBLE_DEVICES"), "0");
  EXPECT_EQ(env.at("JENGA_RUN_KEY"), "0123456789abcdef");
  EXPECT_EQ(env.at("JENGA_PROFILE"), "h100");  // the run's profile name
  EXPECT_EQ(env.at("X"), "1");
  p.memory_cap_gib = 48;
  env = worker_env({}, sample(), p, 0, opt);
  EXPECT_EQ(env.at("JENGA_MEMORY_CAP_GIB"), "48");
}

TEST(WorkerCommand, MultiGpuRunsSeeTheFirstNGpus) {
  Profile p;
  p.gpus = 4;
  p.slots_per_gpu = 1;
  auto r = sample();
  EXPECT_EQ(gpus_needed(r), 1);
  EXPECT_EQ(worker_env({}, r, p, 3, SchedulerOptions{}).at("CUDA_VISIBLE_DEVICES"), "3");
  r.params["gpus"] = 2;
  EXPECT_EQ(gpus_needed(r), 2);
  EXPECT_EQ(worker_env({}, r, p, 3, SchedulerOptions{}).at("CUDA_VISIBLE_DEVICES"), "0,1");
  p.gpus = 0;  // CPU profile: every GPU stays hidden; the worker's ranks share the CPU
  EXPECT_EQ(worker_env({}, r, p, 0, SchedulerOptions{}).at("CUDA_VISIBLE_DEVICES"), "");
  r.params["gpus"] = 0;
  EXPECT_THROW(gpus_needed(r), Error);
  r.params["gpus"] = "2";
  EXPECT_THROW(gpus_needed(r), Error);
}

}  // namespace
}  // namespace jenga::harness
