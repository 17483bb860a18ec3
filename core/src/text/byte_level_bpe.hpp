// Byte-level BPE, the model of GPT-2/OPT and Llama-3 tokenizer.json files: every byte is a
// vocabulary symbol spelled as a printable character (GPT-2's bytes_to_unicode), and adjacent
// symbols merge by rank, lowest first, as HF tokenizers' BPE model does.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace jenga::core::byte_level {

// The character GPT-2 spells byte `b` with ('Ġ' for a space).
char32_t byte_to_char(unsigned char b);
// The byte-level spelling of raw bytes ("Ġthe" for " the").
std::string spell(std::string_view bytes);
// A token's bytes as HF's ByteLevel decoder gives them: each character mapped back to its byte
// when all of them are byte-level characters, else the token's own text (added tokens such as
// "<|endoftext|>" come out verbatim either way).
std::string unspell(const std::string& token);

struct BpeOptions {
  std::optional<std::string> unk_token;  // the id for a symbol outside the vocabulary; else dropped
  bool fuse_unk = false;                 // consecutive unknown symbols give one unk
  bool byte_fallback = false;            // unknown symbols as <0xXX> tokens when the vocab has them
  bool ignore_merges = false;            // a pre-token that is a whole vocab entry is that entry
};

class Bpe {
 public:
  // `vocab`: byte-level spelling -> id; `merges`: pairs in rank order. Error naming `where` when a
  // merge's parts or result are not in the vocabulary, or the unk token is not.
  Bpe(std::unordered_map<std::string, int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options, const std::string& where);

  // Appends the ids of one pre-token, given as raw bytes. Thread-safe (the cache is locked).
  void encode(std::string_view word, std::vector<int64_t>& out) const;

  const std::unordered_map<std::string, int64_t>& vocab() const { return vocab_; }

 private:
  std::vector<int32_t> merge_word(std::string_view word) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<std::string, int32_t> by_bytes_;  // vocab entries by their raw bytes (ignore_merges)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, merged id)
  int32_t byte_id_[256];                                              // id of each byte's symbol, -1 if none
  std::optional<int32_t> unk_id_;
  BpeOptions options_;

  // Ids of recent pre-tokens: text repeats its words, so most are merged once. Cleared when full.
  static constexpr size_t kCacheEntries = 1 << 17;
  static constexpr size_t kCacheMaxWord = 256;  // longer pre-tokens (rare) are not cached
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace jenga::core::byte_level
