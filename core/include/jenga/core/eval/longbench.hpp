// LongBench-format evaluation (Table 6): samples from LongBench's JSON lines (or ours, built from
// our corpora in the same format), a prompt per dataset, the context truncated in the middle to
// fit, greedy generation, and LongBench's per-dataset metric (longbench_metrics.hpp).
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/text/tokenizer.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jenga::core::longbench {

struct Sample {
  std::string dataset, id, input, context;
  std::vector<std::string> answers, all_classes;
  std::string file;
  int64_t line = 0;  // 1-based, for messages
};

// One JSON object per line with input, context, answers (list), and dataset (or the file stem:
// LongBench names files <dataset>.jsonl); all_classes and _id optional. Error with file:line for
// a malformed line or a missing/mistyped field.
std::vector<Sample> read_jsonl(const std::string& path);

// The dataset's instruction around the context and the question (our wording, per task family;
// a generic one for datasets we do not know).
std::string prompt_for(const Sample& s);

// Tokens LongBench lets a dataset generate (its dataset2maxlen; 32 for datasets it lacks).
int64_t max_new_tokens_for(const std::string& dataset);

// LongBench's truncation: a prompt longer than max_tokens keeps its first and last max_tokens/2.
std::vector<int64_t> truncate_middle(const std::vector<int64_t>& ids, int64_t max_tokens);

struct Prediction {
  const Sample* sample = nullptr;
  std::string text;
  double score = 0;            // [0, 1]
  int64_t prompt_tokens = 0;   // after truncation
};

struct Options {
  int64_t max_context = 3500;  // prompt tokens, after truncation
  int64_t max_new_tokens = 0;  // 0: the dataset's own
  int64_t limit = 0;           // samples per dataset; 0: all
  // LongBench's lengths count BPE tokens (~4 characters each); a byte-level tokenizer needs
  // about 4x as many to say the same (its answers were cut mid-sentence at 1x).
  double new_token_scale = 1.0;
};

// Generates and scores every sample (in file order, `limit` per dataset); `each` sees every
// prediction as it is made (for progress records). Stops at the tokenizer's EOS and, for
// datasets answered in one line, at a newline.
std::vector<Prediction> evaluate(CausalLM& model, const Tokenizer& tok, const std::vector<Sample>& samples, const Options& opt,
                                 const LayerHooks& hooks = {}, const std::function<void(const Prediction&)>& each = {});

}  // namespace jenga::core::longbench
