// The data layer under figures and tables: which runs land in which cell, what a cell shows when
// its runs disagree or failed, and how values are ordered and labelled.
#include "tests/harness/plot/plot_fixture_env.hpp"

#include "harness/plot/grid.hpp"
#include "harness/plot/labels.hpp"
#include "harness/plot/plot.hpp"
#include "harness/plot/script.hpp"

#include <gtest/gtest.h>

namespace jenga::harness::test {
namespace {

RunRecords run(const std::string& key, const Json& params, const std::string& status, const Json& summary = Json::object(),
               std::vector<MetricRow> metrics = {}) {
  RunRecords r;
  r.run.key = key;
  r.run.experiment = "g";
  r.run.profile = "h100";
  r.run.task = "train-bench";
  r.run.params = params;
  r.run.status = status;
  r.run.log_path = "logs/g/" + key + ".jsonl";
  r.run.provenance = {{"gpu", "NVIDIA H100 80GB HBM3"}};
  r.summary = summary;
  r.metrics = std::move(metrics);
  return r;
}

MetricRow metric(const std::string& name, double v, const Json& tags) {
  MetricRow m;
  m.name = name;
  m.value = v;
  m.tags = tags;
  return m;
}

class PlotGridTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(scratch_dir("grid") + "/r.sqlite");
    store_->replace_runs({
        run("a1", {{"method", "a"}, {"seq_len", 1024}, {"seed", 0}}, "ok", {{"t", 10.0}}),
        run("a2", {{"method", "a"}, {"seq_len", 1024}, {"seed", 1}}, "ok", {{"t", 12.0}}),
        run("a3", {{"method", "a"}, {"seq_len", 2048}, {"seed", 0}}, "oom"),
        run("b1", {{"method", "b"}, {"seq_len", 1024}, {"seed", 0}, {"lora_rank", 8}}, "ok", {{"t", 5.0}}),
        run("b2", {{"method", "b"}, {"seq_len", 1024}, {"seed", 0}, {"lora_rank", 16}}, "ok", {{"t", 6.0}}),
        run("b3", {{"method", "b"}, {"seq_len", 512}, {"seed", 0}}, "ok", {{"other", 1.0}}),
        run("c1", {{"method", "c"}}, "ok", Json::object(),
            {metric("score", 40, {{"task", "x"}}), metric("score", 50, {{"task", "y"}})}),
        run("d1", {{"method", "d"}}, "timeout"),
    });
    exp_.name = "g";
    exp_.matrix.sweep = {{"method", {Json("d"), Json("c"), Json("b"), Json("a")}}};
    set_ = std::make_unique<RunSet>(RunSet::load(*store_, exp_, SelectOptions{}));
  }

  std::unique_ptr<Store> store_;
  Experiment exp_;
  std::unique_ptr<RunSet> set_;
};

TEST_F(PlotGridTest, RepeatsDifferingOnlyInSeedAreAveragedAndSaySo) {
  const Grid g = build_grid(*set_, GridSpec{{"method", "seq_len"}, "t", Json::object()});
  const Cell* c = g.at({Json("a"), Json(1024)});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "ok");
  EXPECT_DOUBLE_EQ(*c->value, 11.0);
  EXPECT_EQ(c->note, "mean of 2 values");
  EXPECT_EQ(c->sources.size(), 2u);
}

TEST_F(PlotGridTest, DifferentRunsInOneCellAreAmbiguousNotAveraged) {
  const Grid g = build_grid(*set_, GridSpec{{"method", "seq_len"}, "t", Json::object()});
  const Cell* c = g.at({Json("b"), Json(1024)});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, "ambiguous");
  EXPECT_FALSE(c->value.has_value());
  EXPECT_NE(c->note.find("lora_rank"), std::string::npos) << c->note;
}

TEST_F(PlotGridTest, FailedRunsHoldNoValueAndOkRunsWithoutTheValueSayNoValue) {
  const Grid g = build_grid(*set_, GridSpec{{"method", "seq_len"}, "t", Json::object()});
  const Cell* oom = g.at({Json("a"), Json(2048)});
  ASSERT_NE(oom, nullptr);
  EXPECT_EQ(oom->status, "oom");
  EXPECT_FALSE(oom->value.has_value());
  const Cell* none = g.at({Json("b"), Json(512)});
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->status, "no value");
  EXPECT_EQ(g.at({Json("a"), Json(512)}), nullptr) << "no run maps there";
}

TEST_F(PlotGridTest, MetricTagsAreDimensionsAndAFailedRunIsMissingInEveryTagValue) {
  const Grid g = build_grid(*set_, GridSpec{{"task", "method"}, "score", Json::object()});
  EXPECT_EQ(g.axes[0], (std::vector<Json>{Json("x"), Json("y")}));
  EXPECT_DOUBLE_EQ(*g.at({Json("y"), Json("c")})->value, 50);
  // d timed out before any metric: it is missing in the row of each task.
  EXPECT_EQ(g.at({Json("x"), Json("d")})->status, "timeout");
  EXPECT_EQ(g.at({Json("y"), Json("d")})->status, "timeout");
  // Methods in declared order (d, c, ...), not alphabetical.
  EXPECT_EQ(g.axes[1].front(), Json("d"));
}

TEST_F(PlotGridTest, FiltersTakeValuesOrListsAndNumbersOfEitherType) {
  const Grid g = build_grid(*set_, GridSpec{{"method"}, "t", Json{{"method", {"a", "b"}}, {"seq_len", 1024.0}}});
  EXPECT_EQ(g.axes[0], (std::vector<Json>{Json("b"), Json("a")}));
  EXPECT_EQ(g.at({Json("c")}), nullptr);
}

TEST_F(PlotGridTest, NumbersSortAscendingAndNormalise) {
  EXPECT_EQ(order_values(exp_, "seq_len", {Json(2048), Json(512.0), Json(1024)}),
            (std::vector<Json>{Json(512), Json(1024), Json(2048)}));
  EXPECT_EQ(normalise_value(Json(4096.0)).dump(), "4096");
}

TEST_F(PlotGridTest, ATimelineLoggedAsMetricRecordsIsDrawnFromTheirTags) {
  store_->replace_run(run("m1", {{"method", "m"}}, "ok", Json::object(),
                          {metric("alloc_mib", 300, {{"t_ms", 20}}), metric("alloc_mib", 100, {{"t_ms", 0}}),
                           metric("alloc_mib", 200, {{"t_ms", 10}})}));
  FigureSpec f;
  f.id = "tl";
  f.type = "memory_timeline";
  f.x = "t_ms";
  f.y = "alloc_mib";
  f.series = "method";
  f.filter = Json{{"method", "m"}};
  exp_.figures = {f};
  PlotOptions opt;
  opt.out_dir = scratch_dir("timeline");
  opt.render = false;
  const auto r = plot_figures(*store_, {{&exp_, &exp_.figures[0]}}, opt).at(0);
  EXPECT_EQ(r.error, "");
  const std::string dat = read_text(std::filesystem::path(opt.out_dir) / "g" / "tl.dat");
  EXPECT_NE(dat.find("0\t100\n10\t200\n20\t300\n"), std::string::npos) << dat;
}

TEST(PlotLabels, UnitsFollowTheNamingConventionAndTheScale) {
  EXPECT_EQ(axis_label("", "peak_allocated_mib", 1.0 / 1024, "", {}), "peak allocated memory (GiB)");
  EXPECT_EQ(axis_label("", "peak_allocated_mib", 1.0, "", {}), "peak allocated memory (MiB)");
  EXPECT_EQ(axis_label("", "step_ms", 1e-3, "", {}), "step time (s)");
  EXPECT_EQ(axis_label("", "tokens_per_s", 1.0, "", {}), "throughput (tokens/s)");
  EXPECT_EQ(axis_label("", "mem_mib.allocated", 1.0 / 1024, "", {}), "allocated memory (GiB)");
  EXPECT_EQ(axis_label("", "seq_len", 1.0, "", {}), "sequence length (tokens)");
  EXPECT_EQ(axis_label("", "accuracy", 1.0, "%", {}), "accuracy (%)");
  EXPECT_EQ(axis_label("", "loss", 1.0, "", {}), "loss");
  EXPECT_EQ(axis_label("my label", "loss", 1.0, "", {}), "my label");
  EXPECT_EQ(value_label("seq_len", Json(32768), {}), "32K");
  EXPECT_EQ(value_label("seq_len", Json(1000), {}), "1000");
  EXPECT_EQ(value_label("segment", Json(true), {}), "segment: yes");
  EXPECT_EQ(value_label("segment", Json(true), {{"true", "with segment"}}), "with segment");
  EXPECT_TRUE(higher_is_better("tokens_per_s"));
  EXPECT_FALSE(higher_is_better("step_ms"));
}

TEST(PlotScript, CaptionWrapsAndEmptyDataBlocksKeepTheirIndex) {
  const auto lines = wrap_text("one two three four five six", 9);
  EXPECT_EQ(lines, (std::vector<std::string>{"one two", "three", "four five", "six"}));
}

}  // namespace
}  // namespace jenga::harness::test
