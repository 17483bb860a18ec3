#include "longbench_run.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/longbench.hpp"
#include "jenga/core/text/tokenizer.hpp"
#include "run_setup.hpp"

#include <map>

namespace jenga::worker {

Json run_longbench(core::CausalLM& model, const ModelSource& src, const Json& p, const core::LayerHooks& hooks) {
  std::vector<std::string> files;
  if (p.at("data").is_array())
    files = p["data"].get<std::vector<std::string>>();
  else
    files.push_back(p["data"].get<std::string>());
  std::vector<core::longbench::Sample> samples;
  for (const auto& f : files) {
    auto s = core::longbench::read_jsonl(f);
    samples.insert(samples.end(), std::make_move_iterator(s.begin()), std::make_move_iterator(s.end()));
  }
  const auto tok = pick_tokenizer(src, p);
  core::longbench::Options opt;
  opt.max_context = p.value("max_context", opt.max_context);
  opt.max_new_tokens = p.value("max_new_tokens", opt.max_new_tokens);
  opt.limit = p.value("limit", opt.limit);
  // A byte per token: LongBench's answer lengths (in BPE tokens) are scaled to bytes.
  if (tok->vocab_size() == 256) opt.new_token_scale = 4.0;
  std::map<std::string, std::pair<double, int64_t>> by_dataset;  // sum of scores, samples
  core::longbench::evaluate(model, *tok, samples, opt, hooks, [&](const core::longbench::Prediction& pr) {
    const auto& s = *pr.sample;
    auto rec = protocol::make_metric("sample_score", pr.score, "", {{"dataset", s.dataset}, {"id", s.id}});
    rec["prediction"] = pr.text;
    rec["prompt_tokens"] = pr.prompt_tokens;
    emit(rec);
    auto& d = by_dataset[s.dataset];
    d.first += pr.score;
    d.second += 1;
  });
  Json out = Json::object();
  double avg = 0;
  for (const auto& [name, d] : by_dataset) {
    const double score = 100.0 * d.first / static_cast<double>(d.second);
    emit(protocol::make_metric("score", score, "", {{"dataset", name}}));
    out["score_" + name] = score;
    out["samples_" + name] = d.second;
    avg += score / static_cast<double>(by_dataset.size());
  }
  out["score_average"] = avg;
  return out;
}

}  // namespace jenga::worker
