// Needle in a haystack (passkey style): a sentence holding a random five-digit number is put at
// a depth (0 = start, 1 = end) of `length` tokens of real text, the model is asked for the number
// after the haystack, and a trial scores 1 when the first number in its greedy answer is right.
// The heat map is the mean over trials per (length, depth).
#pragma once

#include "jenga/core/model/causal_lm.hpp"
#include "jenga/core/text/tokenizer.hpp"
#include "jenga/core/train/token_file.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jenga::core {

struct NiahOptions {
  std::vector<int64_t> lengths;        // prompt tokens, needle and question included
  std::vector<double> depths;          // in [0, 1]
  int64_t trials = 3;                  // needles (and haystack windows) per cell
  int64_t max_new_tokens = 24;
  uint64_t seed = 0;
};

struct NiahTrial {
  int64_t length = 0;
  double depth = 0;
  std::string key, answer;
  double score = 0;
};

struct NiahCell {
  int64_t length = 0;
  double depth = 0;
  double score = 0;  // mean over trials, in [0, 1]
  int64_t trials = 0;
};

// `haystack` holds text tokenized with `tok` (byte files for byte tokenizers). Trials are
// deterministic for a seed. Error for an empty grid, a depth outside [0, 1], a length too short
// for the needle and question, or a haystack shorter than the longest length.
std::vector<NiahCell> needle_in_haystack(CausalLM& model, const Tokenizer& tok, const TokenFile& haystack, const NiahOptions& opt,
                                         const LayerHooks& hooks = {},
                                         const std::function<void(const NiahTrial&)>& each = {});

// The first run of digits in `text` ("" if none): how an answer is read.
std::string first_number(const std::string& text);

}  // namespace jenga::core
