// Mutated spec files must either load or fail with jenga::harness::Error: never another
// exception type, never a crash. Deterministic (fixed seed) so a failure reproduces.
#include "harness/spec/experiment.hpp"
#include "harness/spec/profile.hpp"
#include "tests/harness/spec/sample_experiment.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

#include <random>

using jenga::harness::Error;
using jenga::harness::testing::kSampleExperiment;
using jenga::harness::testing::TempTree;

namespace {

enum class Outcome { Loaded, Error, Other };

template <typename Load>
Outcome try_load(const TempTree& t, const std::string& rel, const std::string& text, Load load,
                 std::string* detail) {
  const std::string path = t.write(rel, text);
  try {
    load(path);
    return Outcome::Loaded;
  } catch (const Error&) {
    return Outcome::Error;
  } catch (const std::exception& e) {
    *detail = e.what();
    return Outcome::Other;
  } catch (...) {
    *detail = "(non-std exception)";
    return Outcome::Other;
  }
}

template <typename Load>
void fuzz(const std::string& rel, const std::string& valid, Load load, int flips) {
  TempTree t;
  std::string detail;
  ASSERT_EQ(try_load(t, rel, valid, load, &detail), Outcome::Loaded) << "the unmutated file must load";

  int loaded = 0, errors = 0;
  auto check = [&](const std::string& text, const std::string& what) {
    const Outcome o = try_load(t, rel, text, load, &detail);
    ASSERT_NE(o, Outcome::Other) << what << ": threw " << detail << "\n--- input ---\n" << text;
    (o == Outcome::Loaded ? loaded : errors)++;
  };

  for (size_t n = 0; n < valid.size(); ++n) check(valid.substr(0, n), "truncated at " + std::to_string(n));

  std::mt19937 rng(20250611);
  std::uniform_int_distribution<size_t> pos(0, valid.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255), count(1, 4);
  const std::string specials = ":-[]{},#&*!|>'\"%@`\t\n ?$0";
  std::uniform_int_distribution<size_t> special(0, specials.size() - 1);
  for (int i = 0; i < flips; ++i) {
    std::string text = valid;
    const int k = count(rng);
    for (int j = 0; j < k; ++j) {
      // Half the flips write YAML-significant characters, which reach deeper than random bytes.
      text[pos(rng)] = (i % 2) ? static_cast<char>(byte(rng)) : specials[special(rng)];
    }
    check(text, "flip case " + std::to_string(i));
  }
  // Both outcomes must occur, or the mutations did not exercise anything.
  EXPECT_GT(errors, 0);
  EXPECT_GT(loaded, 0);
  std::cout << rel << ": " << loaded << " loaded, " << errors << " rejected with Error\n";
}

TEST(SpecFuzz, ExperimentTruncationsAndFlips) {
  fuzz("experiments/sample.yaml", kSampleExperiment, [](const std::string& p) { jenga::harness::load_experiment(p); },
       400);
}

TEST(SpecFuzz, ProfileTruncationsAndFlips) {
  const std::string profile =
      "description: fuzz card\n"
      "gpu_pattern: \"H1[0-9]0|A800\"\n"
      "memory_gib: 80\n"
      "memory_cap_gib: 48\n"
      "gpus: 1\n"
      "slots_per_gpu: 2\n"
      "timeout_s: 600\n"
      "sizes:\n"
      "  lengths: [4096, 8192]\n"
      "  long_lengths: [16384]\n";
  fuzz("configs/profiles/fuzz.yaml", profile, [](const std::string& p) { jenga::harness::load_profile(p); }, 300);
}

}  // namespace
