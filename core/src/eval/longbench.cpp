#include "jenga/core/eval/longbench.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/generation.hpp"
#include "jenga/core/eval/longbench_metrics.hpp"
#include "io/json_lines.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace jenga::core::longbench {
namespace {

using Json = nlohmann::json;

std::string string_field(const Json& j, const char* key, const std::string& where, bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw Error(msg(where, ": missing field '", key, "'"));
    return {};
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw Error(msg(where, ": field '", key, "' must be a string, got ", it->type_name()));
}

std::vector<std::string> list_field(const Json& j, const char* key, const std::string& where, bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw Error(msg(where, ": missing field '", key, "'"));
    return {};
  }
  if (!it->is_array()) throw Error(msg(where, ": field '", key, "' must be a list of strings, got ", it->type_name()));
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw Error(msg(where, ": field '", key, "' must hold strings, got ", v.type_name()));
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<Sample> read_jsonl(const std::string& path) {
  // The file stem by hand: std::filesystem is unsafe next to LibTorch (io/posix_files.hpp).
  const size_t slash = path.find_last_of('/');
  std::string stem = slash == std::string::npos ? path : path.substr(slash + 1);
  if (const size_t dot = stem.find_last_of('.'); dot != std::string::npos && dot > 0) stem = stem.substr(0, dot);
  std::vector<Sample> out;
  json_lines::for_each_object(path, [&](const Json& j, int64_t n, const std::string& where) {
    Sample s;
    s.file = path;
    s.line = n;
    s.input = string_field(j, "input", where, true);
    s.context = string_field(j, "context", where, true);
    s.answers = list_field(j, "answers", where, true);
    s.all_classes = list_field(j, "all_classes", where, false);
    s.dataset = string_field(j, "dataset", where, false);
    if (s.dataset.empty()) s.dataset = stem;
    s.id = string_field(j, "_id", where, false);
    if (s.id.empty()) s.id = msg(stem, ":", n);
    if (s.answers.empty()) throw Error(msg(where, ": 'answers' is empty"));
    out.push_back(std::move(s));
  });
  if (out.empty()) throw Error(msg("longbench: ", path, " holds no samples"));
  return out;
}

std::string prompt_for(const Sample& s) {
  std::string metric;
  try {
    metric = metric_for(s.dataset);
  } catch (const Error&) {
    return s.context + "\n\n" + s.input + "\n";
  }
  if (s.dataset == "passage_retrieval_en")
    return "Below are numbered paragraphs, then a summary of one of them. Name the paragraph the summary comes "
           "from, as in \"Paragraph 3\".\n\n" + s.context + "\n\nSummary: " + s.input + "\n\nThe summary comes from: ";
  if (s.dataset == "passage_count")
    return "Below are paragraphs, some repeated. Count the distinct paragraphs and answer with one number.\n\n" + s.context +
           "\n\nThe number of distinct paragraphs is: ";
  if (metric == "rouge") return "Summarise the text below.\n\n" + s.context + "\n\n" + s.input + "\nSummary:";
  if (metric == "classification")
    return "Give the type of the last question, as the examples do.\n\n" + s.context + "\n" + s.input;
  if (metric == "code_sim") return "Write the next line of code.\n" + s.context + s.input;
  return "Answer the question from the text below, in as few words as you can.\n\n" + s.context + "\n\nQuestion: " + s.input +
         "\nAnswer:";
}

int64_t max_new_tokens_for(const std::string& dataset) {
  static const std::map<std::string, int64_t> table = {
      {"narrativeqa", 128}, {"qasper", 128}, {"multifieldqa_en", 64}, {"hotpotqa", 32}, {"2wikimqa", 32},
      {"musique", 32}, {"gov_report", 512}, {"qmsum", 512}, {"multi_news", 512}, {"trec", 64},
      {"triviaqa", 32}, {"samsum", 128}, {"passage_count", 32}, {"passage_retrieval_en", 32}, {"lcc", 64},
      {"repobench-p", 64}, {"passkey", 16}, {"kv_retrieval", 48},
      {"ruler_niah_multikey", 32}, {"ruler_vt", 30}, {"ruler_cwe", 120}};
  const auto it = table.find(dataset);
  return it == table.end() ? 32 : it->second;
}

std::vector<int64_t> truncate_middle(const std::vector<int64_t>& ids, int64_t max_tokens) {
  if (max_tokens < 2) throw Error(msg("longbench: max_context must be >= 2, got ", max_tokens));
  if (static_cast<int64_t>(ids.size()) <= max_tokens) return ids;
  const int64_t half = max_tokens / 2;
  std::vector<int64_t> out(ids.begin(), ids.begin() + half);
  out.insert(out.end(), ids.end() - (max_tokens - half), ids.end());
  return out;
}

std::vector<Prediction> evaluate(CausalLM& model, const Tokenizer& tok, const std::vector<Sample>& samples, const Options& opt,
                                 const LayerHooks& hooks, const std::function<void(const Prediction&)>& each) {
  std::vector<int64_t> newline;
  if (const auto nl = tok.encode("\n"); nl.size() == 1) newline = nl;
  std::map<std::string, int64_t> taken;
  std::vector<Prediction> out;
  for (const Sample& s : samples) {
    if (opt.limit > 0 && taken[s.dataset] >= opt.limit) continue;
    ++taken[s.dataset];
    std::vector<int64_t> ids;
    if (const auto b = tok.bos_id()) ids.push_back(*b);
    const auto body = tok.encode(prompt_for(s));
    ids.insert(ids.end(), body.begin(), body.end());
    ids = truncate_middle(ids, opt.max_context);
    std::vector<int64_t> stop;
    if (const auto e = tok.eos_id()) stop.push_back(*e);
    // Datasets scored on one line (and our synthetic ones) stop at the line's end.
    const bool one_line = s.dataset == "trec" || s.dataset == "triviaqa" || s.dataset == "samsum" ||
                          s.dataset == "passkey" || s.dataset == "kv_retrieval" || s.dataset.rfind("ruler_", 0) == 0;
    if (one_line) stop.insert(stop.end(), newline.begin(), newline.end());
    const int64_t max_new = opt.max_new_tokens > 0
                                ? opt.max_new_tokens
                                : static_cast<int64_t>(std::ceil(opt.new_token_scale * static_cast<double>(max_new_tokens_for(s.dataset))));
    Prediction p;
    p.sample = &s;
    p.prompt_tokens = static_cast<int64_t>(ids.size());
    p.text = tok.decode(greedy_generate(model, ids, max_new, stop, hooks));
    p.score = score_sample(s.dataset, p.text, s.answers, s.all_classes);
    if (each) each(p);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace jenga::core::longbench
