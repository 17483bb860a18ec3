// HF tokenizer.json byte-level BPE (GPT-2/OPT, Llama-3 and tokenizers configured like them), read
// and applied without the tokenizers library: HF's ids for any text.
//
// Read: model BPE (merges as "a b" or [a, b], ignore_merges); added tokens (matched in the raw
// text first, with single_word/lstrip/rstrip); normalizer null; pre_tokenizer ByteLevel, alone or
// last after Split steps whose regex is GPT-2's or Llama-3's (matched by hand code); decoder
// ByteLevel; post_processor TemplateProcessing / Roberta / Bert / ByteLevel. Anything else is an
// Error naming the file and the field. Bytes that are not UTF-8 (HF never sees any) count as
// symbol characters, so decode(encode(x)) == x for any bytes x without added tokens in it.
#pragma once

#include "jenga/core/text/tokenizer.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jenga::core {

class HfTokenizer : public Tokenizer {
 public:
  // HF's encode(text, add_special_tokens=True): the post-processor's template around encode(text).
  virtual std::vector<int64_t> encode_with_special_tokens(const std::string& text) const = 0;
  // The id of an added token's content or of a vocabulary entry's spelling ("Ġthe"); nullopt if none.
  virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
};

// `path`: a tokenizer.json file, or a directory holding one. bos_id() is the template's single
// token before the text (Llama-3's <|begin_of_text|>; none for GPT-2); eos_id() the template's
// single token after it, else tokenizer_config.json's eos_token beside the file, else the special
// added token <|end_of_text|>, <|endoftext|> or </s> (in that order). Errors name the path.
std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& path);

}  // namespace jenga::core
