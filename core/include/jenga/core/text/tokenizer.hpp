// Text <-> token ids: byte-level (ids 0..255, for byte models such as the loss-gap model),
// SentencePiece BPE (Llama-2's tokenizer.model), read and applied without libsentencepiece, whose
// protobuf clashes with LibTorch's in one process, and HF tokenizer.json byte-level BPE (GPT-2/OPT,
// Llama-3: hf_tokenizer.hpp), without the tokenizers library. All give the reference ids.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jenga::core {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text`, without BOS/EOS (tokenizer.json's added tokens written in the text do count,
  // as in HF).
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Text of `ids` (special tokens dropped); Error for an id outside the vocabulary.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> bos_id() const { return std::nullopt; }
  virtual std::optional<int64_t> eos_id() const { return std::nullopt; }
};

std::unique_ptr<Tokenizer> make_byte_tokenizer();
// Error naming the path if it is missing, not a SentencePiece model, or not BPE with identity
// normalisation (unigram models are not supported yet).
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_path);
// A model directory's tokenizer, first found of: <dir>/tokenizer.model (SentencePiece: where HF
// ships both, as for Llama-2, tokenizer.json is converted from it, often with a normaliser we do not
// read; when it fails to read, e.g. a tiktoken file, tokenizer.json is tried), <dir>/tokenizer.json
// (load_hf_tokenizer), bytes when the vocabulary has 256 entries; Error otherwise, naming what was
// looked for. `dir` may also be a tokenizer.json file itself.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir, int64_t vocab_size);

}  // namespace jenga::core
