#include "niah_run.hpp"

#include "run_setup.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/eval/niah.hpp"

namespace jenga::worker {

Json run_niah(core::CausalLM& model, const ModelSource& src, const Json& p) {
  if (!p.contains("lengths")) throw core::Error("niah: lengths (a list of prompt lengths) is required");
  if (!p.contains("data")) throw core::Error("niah: a haystack token file (data) is required");
  core::NiahOptions opt;
  opt.lengths = p["lengths"].get<std::vector<int64_t>>();
  opt.depths = p.value("depths", std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0});
  opt.trials = p.value("trials", opt.trials);
  opt.seed = p.value("seed", uint64_t{0});
  const auto tok = pick_tokenizer(src, p);
  const auto hay = open_token_data(p, src.config.vocab_size);
  const auto cells = core::needle_in_haystack(model, *tok, *hay, opt, {}, [](const core::NiahTrial& t) {
    auto rec = protocol::make_metric("niah_trial", t.score, "", {{"length", t.length}, {"depth", t.depth}});
    rec["key"] = t.key;
    rec["answer"] = t.answer;
    emit(rec);
  });
  double sum = 0;
  for (const auto& c : cells) {
    emit(protocol::make_metric("niah_score", c.score, "", {{"length", c.length}, {"depth", c.depth}}));
    sum += c.score;
  }
  return Json{{"niah_average", sum / static_cast<double>(cells.size())}};
}

}  // namespace jenga::worker
