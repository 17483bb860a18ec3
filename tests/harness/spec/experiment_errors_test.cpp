// Every way an experiment file can be wrong must name the file, the 1-based line:column of the
// offending node and what was expected there.
#include "harness/spec/experiment.hpp"
#include "tests/harness/spec/temp_tree.hpp"

#include <gtest/gtest.h>

using jenga::harness::Error;
using jenga::harness::load_experiment;
using jenga::harness::testing::expect_error;
using jenga::harness::testing::TempTree;

namespace {

// Loads `yaml` written as experiments/<stem>.yaml and returns the Error it must raise.
Error load_error(const TempTree& t, const std::string& yaml, const std::string& stem = "e1") {
  const std::string path = t.write("experiments/" + stem + ".yaml", yaml);
  return expect_error([&] { load_experiment(path); });
}

void expect_at(const Error& e, const TempTree& t, const std::string& stem, int line, int column) {
  const std::string file = t.path("experiments/" + stem + ".yaml");
  EXPECT_EQ(e.where().file, file);
  EXPECT_EQ(e.where().line, line) << e.what();
  EXPECT_EQ(e.where().column, column) << e.what();
  EXPECT_CONTAINS(e.what(), (stem + ".yaml:" + std::to_string(line) + ":" + std::to_string(column) + ": "));
}

TEST(ExperimentErrors, UnknownTopLevelKeyNamesKeyPositionAndAllowedKeys) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  sweep:\n"
                             "    method: [base]\n"
                             "colour: red\n");
  expect_at(e, t, "e1", 6, 1);
  EXPECT_CONTAINS(e.what(), ("unknown key 'colour' in experiment"));
  EXPECT_CONTAINS(e.what(), ("allowed keys: description, figures, matrix, name, paper, profiles, quick, runs_from, tables, task"));
}

TEST(ExperimentErrors, UnknownKeyInsideAFigure) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - id: f\n"
                             "    type: lines\n"
                             "    x: seq_len\n"
                             "    y: t\n"
                             "    colour: red\n");
  expect_at(e, t, "e1", 9, 5);
  EXPECT_CONTAINS(e.what(), ("unknown key 'colour' in figure"));
  EXPECT_CONTAINS(e.what(), ("allowed keys: annotate, baseline, caption, facet, filter, group, id, labels, log_x, log_y, paper, "
                             "series, stack, title, type, x, x_label, x_scale, y, y_label, y_scale"));
}

TEST(ExperimentErrors, UnknownKeyInMatrix) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {a: 1}\n"
                             "  sweeps: {b: [1, 2]}\n");
  expect_at(e, t, "e1", 5, 3);
  EXPECT_CONTAINS(e.what(), ("unknown key 'sweeps' in matrix; allowed keys: exclude, fixed, include, sweep"));
}

TEST(ExperimentErrors, WrongTypeSaysExpectedAndGot) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "paper:\n"
                             "  fig: 12\n"
                             "task: train-bench\n"
                             "matrix: {}\n");
  expect_at(e, t, "e1", 3, 3);
  EXPECT_CONTAINS(e.what(), ("paper: expected a list of strings, got a map"));
}

TEST(ExperimentErrors, WrongTypeOfListElement) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "paper: [Fig 12, [13]]\n"
                             "task: train-bench\n"
                             "matrix: {}\n");
  expect_at(e, t, "e1", 2, 17);
  EXPECT_CONTAINS(e.what(), ("paper[1]: expected a string, got a list"));
}

TEST(ExperimentErrors, SweepAxisMustBeAListOrSizeReference) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  sweep:\n"
                             "    seq_len: 4096\n");
  expect_at(e, t, "e1", 5, 14);
  EXPECT_CONTAINS(e.what(), ("matrix.sweep.seq_len: expected a list of values or a \"$size\" reference, got the integer 4096"));
}

TEST(ExperimentErrors, BadSizeReferenceSyntax) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  sweep:\n"
                             "    seq_len: [1024, \"$bad name\"]\n");
  expect_at(e, t, "e1", 5, 21);
  EXPECT_CONTAINS(e.what(), ("is not a valid size reference"));
}

TEST(ExperimentErrors, MissingRequiredTopLevelKeyPointsAtTheMap) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "matrix: {}\n");
  expect_at(e, t, "e1", 1, 1);
  EXPECT_CONTAINS(e.what(), ("missing required key 'task' in experiment"));
}

TEST(ExperimentErrors, MissingRequiredKeyInFigurePointsAtTheFigure) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - id: f\n"
                             "    x: a\n"
                             "    y: b\n");
  expect_at(e, t, "e1", 5, 5);
  EXPECT_CONTAINS(e.what(), ("missing required key 'type' in figure (figures[0])"));
}

TEST(ExperimentErrors, FigureTypeNeedsItsAxes) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - {id: f, type: stacked_bars, x: seq_len}\n");
  expect_at(e, t, "e1", 5, 5);
  EXPECT_CONTAINS(e.what(), ("missing required key 'stack' in figure"));
}

TEST(ExperimentErrors, NameMustEqualFileStem) {
  TempTree t;
  const Error e = load_error(t,
                             "name: other\n"
                             "task: train-bench\n"
                             "matrix: {}\n");
  expect_at(e, t, "e1", 1, 7);
  EXPECT_CONTAINS(e.what(), ("experiment name 'other' must equal the file stem 'e1'"));
}

TEST(ExperimentErrors, UnknownFigureType) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - id: f\n"
                             "    type: pie\n"
                             "    y: t\n");
  expect_at(e, t, "e1", 6, 11);
  EXPECT_CONTAINS(e.what(), ("figures[0].type: expected a figure type (one of grouped_bars, lines, "
                                  "stacked_bars, loss_curve, memory_timeline, heatmap), got the string \"pie\""));
}

TEST(ExperimentErrors, YamlSyntaxErrorUnclosedFlowMap) {
  TempTree t;
  // yaml-cpp notices the unclosed flow map at the first token that cannot continue it.
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {a: 1\n"
                             "  sweep: {}\n");
  expect_at(e, t, "e1", 5, 8);
  EXPECT_CONTAINS(e.what(), ("YAML error: end of map flow not found"));
}

TEST(ExperimentErrors, YamlSyntaxErrorUnclosedFlowList) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "paper: [a\n"
                             "figures: ]\n");
  expect_at(e, t, "e1", 5, 8);
  EXPECT_CONTAINS(e.what(), ("YAML error: end of sequence flow not found"));
}

TEST(ExperimentErrors, YamlSyntaxErrorBadIndentation) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             " matrix: {}\n");
  expect_at(e, t, "e1", 3, 8);
  EXPECT_CONTAINS(e.what(), ("YAML error: illegal map value"));
}

TEST(ExperimentErrors, UndefinedAlias) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {a: *nope}\n");
  expect_at(e, t, "e1", 4, 14);
  EXPECT_CONTAINS(e.what(), ("YAML error: the referenced anchor is not defined"));
}

TEST(ExperimentErrors, DuplicateKey) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "task: finetune\n"
                             "matrix: {}\n");
  expect_at(e, t, "e1", 3, 1);
  EXPECT_CONTAINS(e.what(), ("duplicate key 'task' in top level (first at line 2)"));
}

TEST(ExperimentErrors, KeyBothFixedAndSwept) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {method: base}\n"
                             "  sweep:\n"
                             "    method: [base, jenga]\n");
  expect_at(e, t, "e1", 6, 5);
  EXPECT_CONTAINS(e.what(), ("parameter 'method' is both fixed and swept"));
}

TEST(ExperimentErrors, NullParameterValue) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed:\n"
                             "    steps:\n"
                             "    seed: 1\n");
  expect_at(e, t, "e1", 5, 5);
  EXPECT_CONTAINS(e.what(), ("matrix.fixed.steps: expected a value, got null"));
}

TEST(ExperimentErrors, ProfileNamesMustBeKnownProfiles) {
  TempTree t;
  t.write("configs/profiles/h100.yaml", "gpu_pattern: H100\nmemory_gib: 80\ngpus: 1\ntimeout_s: 10\n");
  t.write("configs/profiles/cpu.yaml", "gpu_pattern: \"\"\nmemory_gib: 0\ngpus: 0\ntimeout_s: 10\n");
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "profiles:\n"
                             "  h100: {fixed: {steps: 1}}\n"
                             "  h10: {fixed: {steps: 1}}\n");
  expect_at(e, t, "e1", 6, 3);
  EXPECT_CONTAINS(e.what(), ("unknown profile 'h10'; known profiles: cpu, h100"));
}

TEST(ExperimentErrors, ProfileNameMustBeAName) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "profiles:\n"
                             "  \"../h100\": {}\n");
  expect_at(e, t, "e1", 5, 3);
  EXPECT_CONTAINS(e.what(), ("profile name '../h100' is not a valid name"));
}

TEST(ExperimentErrors, TableFormatMustBeValid) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "tables:\n"
                             "  - id: t\n"
                             "    rows: model\n"
                             "    value: v\n"
                             "    format: \"{:.2q}\"\n");
  expect_at(e, t, "e1", 8, 13);
  EXPECT_CONTAINS(e.what(), ("is not a valid fmt format"));
}

TEST(ExperimentErrors, VsBaselineTableNeedsBaselineAndRatios) {
  TempTree t;
  {
    const Error e = load_error(t,
                               "name: e1\n"
                               "task: train-bench\n"
                               "matrix: {}\n"
                               "tables:\n"
                               "  - id: t\n"
                               "    type: vs_baseline\n"
                               "    rows: [model, seq_len]\n"
                               "    columns: method\n"
                               "    ratios: [{value: m}]\n");
    expect_at(e, t, "e1", 5, 5);
    EXPECT_CONTAINS(e.what(), ("missing required key 'baseline' in table (tables[0])"));
  }
  {
    const Error e = load_error(t,
                               "name: e1\n"
                               "task: train-bench\n"
                               "matrix: {}\n"
                               "tables:\n"
                               "  - id: t\n"
                               "    type: vs_baseline\n"
                               "    rows: model\n"
                               "    columns: method\n"
                               "    baseline: base\n"
                               "    ratios: [{value: m, lable: x}]\n");
    expect_at(e, t, "e1", 10, 25);
    EXPECT_CONTAINS(e.what(), ("unknown key 'lable' in table ratio; allowed keys: format, higher_is_better, label, "
                               "scale, unit, value"));
  }
  {
    const Error e = load_error(t,
                               "name: e1\n"
                               "task: train-bench\n"
                               "matrix: {}\n"
                               "tables:\n"
                               "  - {id: t, type: ratio, rows: model, value: v}\n");
    expect_at(e, t, "e1", 5, 19);
    EXPECT_CONTAINS(e.what(), ("tables[0].type: expected a table type (pivot or vs_baseline), got the string \"ratio\""));
  }
  {
    const Error e = load_error(t,
                               "name: e1\n"
                               "task: train-bench\n"
                               "matrix: {}\n"
                               "tables:\n"
                               "  - {id: t, rows: [], value: v}\n");
    expect_at(e, t, "e1", 5, 19);
    EXPECT_CONTAINS(e.what(), ("tables[0].rows: expected a parameter name or a non-empty list of them, got a list"));
  }
}

TEST(ExperimentErrors, FigureLabelsMustBeAMapOfText) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - id: f\n"
                             "    type: lines\n"
                             "    x: a\n"
                             "    y: b\n"
                             "    labels: [a, b]\n");
  expect_at(e, t, "e1", 9, 13);
  EXPECT_CONTAINS(e.what(), ("figures[0].labels: expected a map of name or value -> display text, got a list"));
}

TEST(ExperimentErrors, AnnotateNeedsBaseline) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - {id: f, type: lines, x: a, y: b, annotate: speedup}\n");
  expect_at(e, t, "e1", 5, 48);
  EXPECT_CONTAINS(e.what(), ("annotate needs a `baseline`"));
}

TEST(ExperimentErrors, DuplicateFigureIds) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix: {}\n"
                             "figures:\n"
                             "  - {id: f, type: lines, x: a, y: b}\n"
                             "  - {id: f, type: lines, x: a, y: c}\n");
  expect_at(e, t, "e1", 6, 5);
  EXPECT_CONTAINS(e.what(), ("duplicate figure id 'f'"));
}

TEST(ExperimentErrors, EmptyFileIsNotAnExperiment) {
  TempTree t;
  const Error e = load_error(t, "");
  EXPECT_EQ(e.where().file, t.path("experiments/e1.yaml"));
  EXPECT_CONTAINS(e.what(), ("top level: expected a map (experiment), got null"));
}

TEST(ExperimentErrors, TwoDocumentsAreRejected) {
  TempTree t;
  const Error e = load_error(t, "name: e1\ntask: t\nmatrix: {}\n---\nname: e2\n");
  expect_at(e, t, "e1", 4, 1);
  EXPECT_CONTAINS(e.what(), ("expected one YAML document; a second one starts here"));
}

// yaml-cpp 0.7's LoadAll never returns on a stray top-level ',' (jbeder/yaml-cpp#1040).
TEST(ExperimentErrors, StrayCommaIsAnErrorNotAHang) {
  TempTree t;
  for (const char* text : {",", ", a", "name: e1\n...\n,\n"}) {
    const Error e = load_error(t, text);
    EXPECT_EQ(e.where().file, t.path("experiments/e1.yaml"));
    EXPECT_GT(e.where().line, 0) << e.what();
  }
  const Error e = load_error(t, ",");
  expect_at(e, t, "e1", 1, 1);
  EXPECT_CONTAINS(e.what(), ("YAML error: unexpected token here"));
}

TEST(ExperimentErrors, UnsupportedTag) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {steps: !!binary aGVsbG8=}\n");
  EXPECT_EQ(e.where().line, 4) << e.what();
  EXPECT_CONTAINS(e.what(), ("unsupported YAML tag"));
}

TEST(ExperimentErrors, NonFiniteNumbersAreRejected) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {lr: .inf}\n");
  expect_at(e, t, "e1", 4, 15);
  EXPECT_CONTAINS(e.what(), ("non-finite numbers are not allowed"));
}

TEST(ExperimentErrors, IntegerOutOfRange) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {n: 99999999999999999999}\n");
  expect_at(e, t, "e1", 4, 14);
  EXPECT_CONTAINS(e.what(), ("integer out of range"));
}

TEST(ExperimentErrors, MissingFile) {
  TempTree t;
  const Error e = expect_error([&] { load_experiment(t.path("experiments/nope.yaml")); });
  EXPECT_EQ(e.where().file, t.path("experiments/nope.yaml"));
  EXPECT_CONTAINS(e.what(), ("cannot open file"));
}

TEST(ExperimentErrors, AliasBombIsAnErrorNotAnOutOfMemory) {
  TempTree t;
  std::string yaml = "name: e1\ntask: train-bench\nmatrix:\n  fixed:\n    a0: &a0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n";
  for (int i = 1; i <= 9; ++i) {
    yaml += "    a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  const Error e = load_error(t, yaml);
  // a4 is the first value with more than 100000 nodes (11111 * 10 + 1).
  EXPECT_CONTAINS(e.what(), ("matrix.fixed.a4["));
  EXPECT_CONTAINS(e.what(), ("value has more than 100000 elements (aliases expanding?)"));
}

TEST(ExperimentErrors, AliasCycleIsAnErrorNotACrash) {
  TempTree t;
  const Error e = load_error(t,
                             "name: e1\n"
                             "task: train-bench\n"
                             "matrix:\n"
                             "  fixed: {a: &x [1, *x]}\n");
  expect_at(e, t, "e1", 4, 18);
  EXPECT_CONTAINS(e.what(), ("nested more than 64 levels deep (an alias cycle?)"));
}

}  // namespace
