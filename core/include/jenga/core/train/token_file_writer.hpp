// Writes token files TokenFile reads with Width::Auto: llm.c's layout (256 x int32 header, magic
// 20240520, version 1 = uint16 / 2 = uint32, the token count), tokens streamed in. The file is
// written beside its final name and renamed by close(), so a failed pack never leaves a
// truncated file under that name.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace jenga::core {

class TokenFileWriter {
 public:
  // `wide`: uint32 tokens (vocabularies over 65536), else uint16. Error if the file cannot be made.
  TokenFileWriter(const std::string& path, bool wide);
  ~TokenFileWriter();  // without close(): the partial file is removed
  TokenFileWriter(const TokenFileWriter&) = delete;
  TokenFileWriter& operator=(const TokenFileWriter&) = delete;

  // Error if a token is negative or does not fit the width, or if the count passes 2^31 - 1.
  void append(const std::vector<int64_t>& tokens);
  int64_t count() const { return count_; }
  // Header, flush, rename into place. Error (naming the path) on any I/O failure or no tokens.
  void close();

 private:
  std::string path_, tmp_;
  bool wide_;
  std::FILE* f_ = nullptr;
  int64_t count_ = 0;
};

}  // namespace jenga::core
