#include "harness/spec/profile.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Error;
using jenga::harness::find_profile;
using jenga::harness::load_profile;
using jenga::harness::Profile;
using jenga::harness::testing::expect_error;
using jenga::harness::testing::TempTree;

namespace {

const char* kValid =
    "# comment\n"
    "description: test card\n"
    "gpu_pattern: \"H100|A800\"\n"
    "memory_gib: 80\n"
    "memory_cap_gib: 47.5\n"
    "gpus: 2\n"
    "slots_per_gpu: 3\n"
    "timeout_s: 120.5\n"
    "sizes:\n"
    "  lengths: [4096, 8192]\n"
    "  one: 2048\n"
    "  names: [a, \"1\"]\n";

Error profile_error(const TempTree& t, const std::string& yaml, const std::string& stem = "p1") {
  const std::string path = t.write("configs/profiles/" + stem + ".yaml", yaml);
  return expect_error([&] { load_profile(path); });
}

void expect_at(const Error& e, const std::string& file, int line, int column) {
  EXPECT_EQ(e.where().file, file);
  EXPECT_EQ(e.where().line, line) << e.what();
  EXPECT_EQ(e.where().column, column) << e.what();
  EXPECT_CONTAINS(e.what(), file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ");
}

TEST(Profile, LoadsEveryField) {
  TempTree t;
  const std::string path = t.write("configs/profiles/p1.yaml", kValid);
  const Profile p = load_profile(path);
  EXPECT_EQ(p.name, "p1");
  EXPECT_EQ(p.file, path);
  EXPECT_EQ(p.description, "test card");
  EXPECT_EQ(p.gpu_pattern, "H100|A800");
  EXPECT_DOUBLE_EQ(p.memory_gib, 80);
  ASSERT_TRUE(p.memory_cap_gib.has_value());
  EXPECT_DOUBLE_EQ(*p.memory_cap_gib, 47.5);
  EXPECT_EQ(p.gpus, 2);
  EXPECT_EQ(p.slots_per_gpu, 3);
  EXPECT_DOUBLE_EQ(p.timeout_s, 120.5);
  ASSERT_EQ(p.sizes.size(), 3u);
  EXPECT_EQ(p.sizes.at("lengths"), (std::vector<jenga::harness::Json>{4096, 8192}));
  EXPECT_EQ(p.sizes.at("one"), (std::vector<jenga::harness::Json>{2048}));  // scalar shorthand
  // A quoted number stays a string.
  EXPECT_EQ(p.sizes.at("names"), (std::vector<jenga::harness::Json>{"a", "1"}));
  EXPECT_TRUE(p.sizes.at("lengths")[0].is_number_integer());
}

TEST(Profile, DefaultsForOptionalKeys) {
  TempTree t;
  const Profile p = load_profile(t.write("configs/profiles/cpu.yaml",
                                         "gpu_pattern: \"\"\nmemory_gib: 0\ngpus: 0\ntimeout_s: 60\n"));
  EXPECT_EQ(p.gpu_pattern, "");
  EXPECT_FALSE(p.memory_cap_gib.has_value());
  EXPECT_EQ(p.slots_per_gpu, 1);
  EXPECT_TRUE(p.sizes.empty());
}

TEST(Profile, BadRegex) {
  TempTree t;
  const Error e = profile_error(t, "gpu_pattern: \"H100(\"\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n");
  expect_at(e, t.path("configs/profiles/p1.yaml"), 1, 14);
  EXPECT_CONTAINS(e.what(), "gpu_pattern: invalid regular expression \"H100(\"");
}

TEST(Profile, UnknownKey) {
  TempTree t;
  const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\nmemory: 3\n");
  expect_at(e, t.path("configs/profiles/p1.yaml"), 5, 1);
  EXPECT_CONTAINS(e.what(), "unknown key 'memory' in profile; allowed keys: description, gpu_pattern, gpus, "
                            "memory_cap_gib, memory_gib, name, sizes, slots_per_gpu, timeout_s");
}

TEST(Profile, MissingRequired) {
  TempTree t;
  const Error e = profile_error(t, "description: x\ngpu_pattern: H100\ngpus: 1\ntimeout_s: 10\n");
  expect_at(e, t.path("configs/profiles/p1.yaml"), 1, 1);
  EXPECT_CONTAINS(e.what(), "missing required key 'memory_gib' in profile");
}

TEST(Profile, WrongTypes) {
  TempTree t;
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: lots\ngpus: 1\ntimeout_s: 10\n");
    expect_at(e, t.path("configs/profiles/p1.yaml"), 2, 13);
    EXPECT_CONTAINS(e.what(), "memory_gib: expected a number, got the string \"lots\"");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 80\ngpus: 1.5\ntimeout_s: 10\n");
    expect_at(e, t.path("configs/profiles/p1.yaml"), 3, 7);
    EXPECT_CONTAINS(e.what(), "gpus: expected an integer, got the number 1.5");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n"
                                     "sizes:\n  lengths:\n    a: 1\n");
    expect_at(e, t.path("configs/profiles/p1.yaml"), 7, 5);
    EXPECT_CONTAINS(e.what(), "sizes.lengths: expected a list of values, got a map");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: [H100]\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n");
    expect_at(e, t.path("configs/profiles/p1.yaml"), 1, 14);
    EXPECT_CONTAINS(e.what(), "gpu_pattern: expected a string, got a list");
  }
}

TEST(Profile, RangeChecks) {
  TempTree t;
  const std::string file = t.path("configs/profiles/p1.yaml");
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 48\nmemory_cap_gib: 80\ngpus: 1\ntimeout_s: 10\n");
    expect_at(e, file, 3, 17);
    EXPECT_CONTAINS(e.what(), "memory_cap_gib 80 exceeds memory_gib 48");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 48\ngpus: -1\ntimeout_s: 10\n");
    expect_at(e, file, 3, 7);
    EXPECT_CONTAINS(e.what(), "gpus: expected an integer in 0..64, got the integer -1");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 48\ngpus: 1\ntimeout_s: 0\n");
    expect_at(e, file, 4, 12);
    EXPECT_CONTAINS(e.what(), "timeout_s: expected a number of seconds > 0");
  }
  {
    const Error e = profile_error(t, "gpu_pattern: H100\nmemory_gib: 48\ngpus: 1\ntimeout_s: 5\nsizes: {l: []}\n");
    expect_at(e, file, 5, 12);
    EXPECT_CONTAINS(e.what(), "sizes.l: expected a non-empty list of values, got a list");
  }
}

TEST(Profile, NameMustMatchStem) {
  TempTree t;
  const Error e = profile_error(t, "name: h100\ngpu_pattern: H100\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n");
  expect_at(e, t.path("configs/profiles/p1.yaml"), 1, 7);
  EXPECT_CONTAINS(e.what(), "profile name 'h100' must equal the file stem 'p1'");
}

TEST(Profile, FindListsAvailableProfiles) {
  TempTree t;
  t.write("configs/profiles/h100.yaml", "gpu_pattern: H100\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n");
  t.write("configs/profiles/a40.yaml", "gpu_pattern: A40\nmemory_gib: 48\ngpus: 1\ntimeout_s: 10\n");
  EXPECT_EQ(find_profile(t.root(), "a40").memory_gib, 48);
  const Error e = expect_error([&] { find_profile(t.root(), "h200"); });
  EXPECT_CONTAINS(e.what(), "unknown profile 'h200'");
  EXPECT_CONTAINS(e.what(), "a40, h100");
  // A name is never a path.
  const Error e2 = expect_error([&] { find_profile(t.root(), "../profiles/h100"); });
  EXPECT_CONTAINS(e2.what(), "unknown profile '../profiles/h100'");
}

}  // namespace
