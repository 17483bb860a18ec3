// Documents from the formats users bring, for packing into token files (`jenga-worker pack`):
//   text       a whole file is one document
//   jsonl      one JSON object per line, the document in a string field (PG-19, proof-pile,
//              RedPajama: "text")
//   longalign  LongAlign's lines: "messages": [{"role", "content"}, ...], one "role: content"
//              paragraph per message
//   longbench  LongBench's lines: the context, then the input, then the first answer
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace jenga::core {

enum class CorpusFormat { Text, Jsonl, LongAlign, LongBench };

// "text" | "jsonl" | "longalign" | "longbench" | "auto" (.jsonl / .json -> jsonl, else text).
CorpusFormat parse_corpus_format(const std::string& name, const std::string& path);

// Calls `fn` once per document, in file order; returns the number of documents. Error with
// file:line for a malformed line or a missing / mistyped field; empty lines are skipped.
int64_t for_each_document(const std::string& path, CorpusFormat format, const std::string& field,
                          const std::function<void(const std::string&)>& fn);

}  // namespace jenga::core
