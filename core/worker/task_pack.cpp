// `pack`: documents (text files, JSON lines with a text field, LongAlign or LongBench lines) ->
// one token file in llm.c's layout, tokenized by our tokenizers, each document framed by the
// tokenizer's BOS / EOS when it has them. Params: input (a path or a list, required), output
// (required), format (auto|text|jsonl|longalign|longbench), field ("text"), tokenizer ("bytes",
// a SentencePiece .model file, or a directory holding tokenizer.model; required). Summary:
// documents, tokens, width_bits, vocab_size.
#include "run_setup.hpp"
#include "task.hpp"

#include "jenga/core/error.hpp"
#include "jenga/core/text/corpus.hpp"
#include "jenga/core/text/tokenizer.hpp"
#include "jenga/core/train/token_file_writer.hpp"

namespace jenga::worker {

Json task_pack(TaskContext& ctx) {
  const auto& p = ctx.params;
  require_known_params(p, {"input", "output", "format", "field", "tokenizer"}, "pack");
  for (const char* k : {"input", "output", "tokenizer"})
    if (!p.contains(k)) throw core::Error(core::msg("pack: params.", k, " is required"));
  std::vector<std::string> inputs;
  if (p["input"].is_array())
    inputs = p["input"].get<std::vector<std::string>>();
  else
    inputs.push_back(p["input"].get<std::string>());
  const auto tok = open_tokenizer(p["tokenizer"].get<std::string>(), 0);
  const std::string field = p.value("field", std::string("text"));
  const bool wide = tok->vocab_size() > 65536;
  core::TokenFileWriter out(p["output"].get<std::string>(), wide);
  int64_t docs = 0;
  for (const auto& in : inputs) {
    const auto fmt = core::parse_corpus_format(p.value("format", std::string("auto")), in);
    docs += core::for_each_document(in, fmt, field, [&](const std::string& doc) {
      std::vector<int64_t> ids;
      if (const auto b = tok->bos_id()) ids.push_back(*b);
      const auto body = tok->encode(doc);
      ids.insert(ids.end(), body.begin(), body.end());
      if (const auto e = tok->eos_id()) ids.push_back(*e);
      out.append(ids);
    });
  }
  out.close();
  return Json{{"documents", docs}, {"tokens", out.count()}, {"width_bits", wide ? 32 : 16}, {"vocab_size", tok->vocab_size()}};
}

}  // namespace jenga::worker
