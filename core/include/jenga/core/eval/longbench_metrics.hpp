// LongBench's scoring (THUDM/LongBench metrics.py, English tasks): per-sample scores in [0, 1]
// for a prediction against one ground truth, and the dataset -> metric table. A sample's score
// is the best over its answers; a dataset's is 100 x the mean over samples.
#pragma once

#include <string>
#include <vector>

namespace jenga::core::longbench {

// Lower case, punctuation and the articles a/an/the removed, whitespace collapsed (SQuAD's rule).
std::string normalize_answer(const std::string& s);
// Token-level F1 of the normalised strings.
double qa_f1(const std::string& prediction, const std::string& truth);
// ROUGE-L F1 over whitespace tokens (longest common subsequence).
double rouge_l(const std::string& prediction, const std::string& truth);
// TREC-style: the classes named in the prediction, minus those that are strict substrings of the
// truth; 1 / (number left) if the truth is among them, else 0.
double classification(const std::string& prediction, const std::string& truth, const std::vector<std::string>& all_classes);
// "Paragraph N" retrieval: the share of the numbers in the prediction equal to the truth's N.
double retrieval(const std::string& prediction, const std::string& truth);
// Passage count: the share of the numbers in the prediction equal to the truth.
double count(const std::string& prediction, const std::string& truth);
// Code: the first prediction line that is not a comment or a fence, against the truth, by
// normalised indel similarity 2·LCS / (|a| + |b|) of characters (fuzz.ratio / 100).
double code_similarity(const std::string& prediction, const std::string& truth);

// RULER's string_match_all: the share of `answers` found in the prediction (case-insensitive).
double string_match_all(const std::string& prediction, const std::vector<std::string>& answers);

// The metric LongBench uses for a dataset ("qa_f1", "rouge", "classification", "retrieval",
// "count", "code_sim"), and ours for passkey / kv_retrieval; Error for a dataset it does not know.
std::string metric_for(const std::string& dataset);
// One sample's score: the best over `answers` with the dataset's metric (and its rule of keeping
// only the prediction's first line for trec, triviaqa and samsum); RULER-style datasets score all
// answers together (string_match_all).
double score_sample(const std::string& dataset, const std::string& prediction, const std::vector<std::string>& answers,
                    const std::vector<std::string>& all_classes = {});

}  // namespace jenga::core::longbench
