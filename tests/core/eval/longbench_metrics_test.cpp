// LongBench's per-sample metrics on hand-made cases whose scores are worked out in the comments.
#include "jenga/core/error.hpp"
#include "jenga/core/eval/longbench_metrics.hpp"

#include <gtest/gtest.h>

namespace lb = jenga::core::longbench;

TEST(LongBenchMetrics, NormalizeAndQaF1) {
  EXPECT_EQ(lb::normalize_answer("The  Cat, sat!"), "cat sat");
  // pred {cat sat on mat}, truth {cat on mat}: 3 shared; P 3/4, R 1 -> F1 6/7.
  EXPECT_NEAR(lb::qa_f1("the cat sat on the mat", "a cat on a mat"), 6.0 / 7.0, 1e-12);
  EXPECT_EQ(lb::qa_f1("dog", "cat"), 0.0);
  EXPECT_EQ(lb::qa_f1("", "cat"), 0.0);
}

TEST(LongBenchMetrics, RougeL) {
  // LCS(a b c d, a c d e) = 3: P = R = 3/4.
  EXPECT_NEAR(lb::rouge_l("a b c d", "a c d e"), 0.75, 1e-12);
  EXPECT_EQ(lb::rouge_l("", "a"), 0.0);
}

TEST(LongBenchMetrics, ClassificationRetrievalCount) {
  const std::vector<std::string> classes = {"Location", "Number", "Description"};
  EXPECT_NEAR(lb::classification("Location and Number", "Location", classes), 0.5, 1e-12);
  EXPECT_EQ(lb::classification("Location", "Location", classes), 1.0);
  EXPECT_EQ(lb::classification("Description", "Location", classes), 0.0);
  EXPECT_NEAR(lb::retrieval("Paragraph 3 and Paragraph 5", "Paragraph 3"), 0.5, 1e-12);
  EXPECT_EQ(lb::retrieval("no idea", "Paragraph 3"), 0.0);
  EXPECT_EQ(lb::count("There are 7 unique paragraphs, maybe 7", "7"), 1.0);
  EXPECT_NEAR(lb::count("3 or 7", "7"), 0.5, 1e-12);
}

TEST(LongBenchMetrics, CodeSimilarityTakesTheFirstCodeLine) {
  // "return x + 1" vs "return x + 2": 12 characters each, LCS 11 -> 22/24.
  EXPECT_NEAR(lb::code_similarity("\n# comment\nreturn x + 1\nmore", "return x + 2"), 22.0 / 24.0, 1e-12);
  EXPECT_EQ(lb::code_similarity("```python", "x"), 0.0);
}

TEST(LongBenchMetrics, SampleScoreUsesTheDatasetsMetricAndBestAnswer) {
  EXPECT_EQ(lb::metric_for("hotpotqa"), "qa_f1");
  EXPECT_EQ(lb::metric_for("lcc"), "code_sim");
  EXPECT_THROW(lb::metric_for("no-such-task"), jenga::core::Error);
  // triviaqa keeps the first line only: "Paris" against "paris" is a full match.
  EXPECT_EQ(lb::score_sample("triviaqa", "Paris\nParis is in France", {"London", "paris"}), 1.0);
  // hotpotqa scores the whole prediction: {paris is in france} vs {paris}: P 1/4, R 1 -> 0.4.
  EXPECT_NEAR(lb::score_sample("hotpotqa", "Paris is in France", {"Paris"}), 0.4, 1e-12);
}

TEST(LongBenchMetrics, RulerTasksScoreEveryAnswerTogether) {
  EXPECT_EQ(lb::metric_for("ruler_vt"), "string_match_all");
  // Two of the three variables named, case-insensitive: 2/3, not the best single answer's 1.
  EXPECT_NEAR(lb::score_sample("ruler_vt", "The variables are xqz and ABC.", {"XQZ", "abc", "mno"}), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(lb::score_sample("ruler_cwe", "nothing", {"the", "of"}), 0.0);
  EXPECT_EQ(lb::string_match_all("anything", {}), 0.0);
}
