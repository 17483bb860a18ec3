#include "jenga/core/eval/niah.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/generation.hpp"

#include <cctype>
#include <random>

namespace jenga::core {

std::string first_number(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  size_t j = i;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  return text.substr(i, j - i);
}

std::vector<NiahCell> needle_in_haystack(CausalLM& model, const Tokenizer& tok, const TokenFile& haystack, const NiahOptions& opt,
                                         const LayerHooks& hooks, const std::function<void(const NiahTrial&)>& each) {
  if (opt.lengths.empty() || opt.depths.empty() || opt.trials < 1)
    throw Error("niah: need at least one length, one depth and one trial");
  for (const double d : opt.depths)
    if (!(d >= 0.0 && d <= 1.0)) throw Error(msg("niah: depth ", d, " outside [0, 1]"));
  const auto question = tok.encode("\nWhat is the pass key? The pass key is");
  std::mt19937_64 rng(opt.seed);
  std::vector<NiahCell> cells;
  for (const int64_t L : opt.lengths) {
    if (L > haystack.num_tokens())
      throw Error(msg("niah: length ", L, " is longer than the haystack ", haystack.path(), " (", haystack.num_tokens(), " tokens)"));
    for (const double depth : opt.depths) {
      NiahCell cell;
      cell.length = L;
      cell.depth = depth;
      for (int64_t t = 0; t < opt.trials; ++t) {
        const std::string key = std::to_string(10000 + rng() % 90000);
        const auto needle = tok.encode(" The pass key is " + key + ". Remember it. " + key + " is the pass key. ");
        std::vector<int64_t> prompt;
        if (const auto b = tok.bos_id()) prompt.push_back(*b);
        const int64_t filler = L - static_cast<int64_t>(prompt.size() + needle.size() + question.size());
        if (filler < 1) throw Error(msg("niah: length ", L, " leaves no room for text around the needle and question"));
        const int64_t start = static_cast<int64_t>(rng() % static_cast<uint64_t>(haystack.num_tokens() - filler + 1));
        const auto text = haystack.window(start, filler).contiguous();
        const auto* p = text.data_ptr<int64_t>();
        const int64_t at = static_cast<int64_t>(depth * static_cast<double>(filler));
        prompt.insert(prompt.end(), p, p + at);
        prompt.insert(prompt.end(), needle.begin(), needle.end());
        prompt.insert(prompt.end(), p + at, p + filler);
        prompt.insert(prompt.end(), question.begin(), question.end());
        NiahTrial trial;
        trial.length = L;
        trial.depth = depth;
        trial.key = key;
        trial.answer = tok.decode(greedy_generate(model, prompt, opt.max_new_tokens, {}, hooks));
        trial.score = first_number(trial.answer) == key ? 1.0 : 0.0;
        cell.score += trial.score;
        ++cell.trials;
        if (each) each(trial);
      }
      cell.score /= static_cast<double>(cell.trials);
      cells.push_back(cell);
    }
  }
  return cells;
}

}  // namespace jenga::core
