// A packed token file read as training sequences: raw little-endian uint16 or uint32 tokens
// (nanoGPT), or llm.c's format (a 256 x int32 header, magic 20240520, version 1 = uint16,
// 2 = uint32). Memory-mapped; every size and token is checked against the file and the vocabulary.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace jenga::core {

class TokenFile {
 public:
  enum class Width { Auto, U16, U32 };  // Auto: llm.c header required
  TokenFile(const std::string& path, Width width, int64_t vocab_size);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  int64_t num_tokens() const { return num_tokens_; }
  const std::string& path() const { return path_; }
  // Tokens [start, start + len) as int64 [len]; Error naming the file if out of range or a token
  // is >= vocab_size.
  torch::Tensor window(int64_t start, int64_t len) const;
  // Sequence `index` of length `len`: consecutive non-overlapping windows, in an order shuffled by
  // `seed` and repeated epoch after epoch (deterministic for a seed).
  torch::Tensor sequence(int64_t index, int64_t len, uint64_t seed) const;

 private:
  std::string path_;
  int64_t vocab_ = 0, num_tokens_ = 0, data_offset_ = 0, width_bytes_ = 0;
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
};

}  // namespace jenga::core
