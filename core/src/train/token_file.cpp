#include "jenga/core/train/token_file.hpp"

#include "jenga/core/error.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jenga::core {
namespace {

constexpr int32_t kLlmcMagic = 20240520;
constexpr int64_t kLlmcHeaderBytes = 256 * 4;

int32_t read_i32(const uint8_t* p) {
  return static_cast<int32_t>(static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                              static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

TokenFile::TokenFile(const std::string& path, Width width, int64_t vocab_size) : path_(path), vocab_(vocab_size) {
  if (vocab_size <= 0) throw Error(msg(path, ": vocabulary size must be positive"));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(msg(path, ": cannot open token file (", std::strerror(errno), ")"));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(msg(path, ": not a regular file"));
  }
  map_size_ = static_cast<size_t>(st.st_size);
  if (map_size_ == 0) {
    ::close(fd);
    throw Error(msg(path, ": empty token file"));
  }
  void* m = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) throw Error(msg(path, ": mmap failed (", std::strerror(errno), ")"));
  map_ = static_cast<const uint8_t*>(m);

  const auto fail = [&](const std::string& what) {
    ::munmap(const_cast<uint8_t*>(map_), map_size_);
    map_ = nullptr;
    throw Error(msg(path, ": ", what));
  };
  const bool has_header = map_size_ >= static_cast<size_t>(kLlmcHeaderBytes) && read_i32(map_) == kLlmcMagic;
  if (has_header) {
    const int32_t version = read_i32(map_ + 4);
    if (version != 1 && version != 2) fail(msg("llm.c header version ", version, ", expected 1 (uint16) or 2 (uint32)"));
    width_bytes_ = version == 1 ? 2 : 4;
    if ((width == Width::U16 && width_bytes_ != 2) || (width == Width::U32 && width_bytes_ != 4))
      fail(msg("llm.c header says ", width_bytes_ * 8, "-bit tokens, but ", width == Width::U16 ? 16 : 32, "-bit was asked for"));
    num_tokens_ = read_i32(map_ + 8);
    data_offset_ = kLlmcHeaderBytes;
    const int64_t expect = data_offset_ + num_tokens_ * width_bytes_;
    if (num_tokens_ <= 0 || static_cast<int64_t>(map_size_) != expect)
      fail(msg("llm.c header promises ", num_tokens_, " tokens (", expect, " bytes), file has ", map_size_, " bytes"));
  } else {
    if (width == Width::Auto) fail("no llm.c header (magic 20240520); say whether the raw tokens are uint16 or uint32");
    width_bytes_ = width == Width::U16 ? 2 : 4;
    if (map_size_ % static_cast<size_t>(width_bytes_) != 0)
      fail(msg(map_size_, " bytes is not a whole number of ", width_bytes_ * 8, "-bit tokens (truncated?)"));
    num_tokens_ = static_cast<int64_t>(map_size_) / width_bytes_;
  }
}

TokenFile::~TokenFile() {
  if (map_) ::munmap(const_cast<uint8_t*>(map_), map_size_);
}

torch::Tensor TokenFile::window(int64_t start, int64_t len) const {
  if (start < 0 || len <= 0 || start + len > num_tokens_)
    throw Error(msg(path_, ": tokens [", start, ", ", start + len, ") are outside the file's ", num_tokens_, " tokens"));
  auto out = at::empty({len}, at::kLong);
  auto* o = out.data_ptr<int64_t>();
  const uint8_t* p = map_ + data_offset_ + start * width_bytes_;
  for (int64_t i = 0; i < len; ++i, p += width_bytes_) {
    const int64_t t = width_bytes_ == 2 ? static_cast<int64_t>(p[0] | p[1] << 8)
                                        : static_cast<int64_t>(static_cast<uint32_t>(read_i32(p)));
    if (t >= vocab_) throw Error(msg(path_, ": token ", t, " at position ", start + i, " is outside the vocabulary of ", vocab_));
    o[i] = t;
  }
  return out;
}

torch::Tensor TokenFile::sequence(int64_t index, int64_t len, uint64_t seed) const {
  if (len <= 0 || index < 0) throw Error(msg(path_, ": bad sequence request index ", index, " length ", len));
  const int64_t windows = num_tokens_ / len;
  if (windows == 0) throw Error(msg(path_, ": ", num_tokens_, " tokens cannot fill one sequence of ", len));
  const int64_t epoch = index / windows;
  auto gen = at::detail::createCPUGenerator(seed + static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ULL);
  const auto order = at::randperm(windows, gen, at::TensorOptions().dtype(at::kLong));
  return window(order[index % windows].item<int64_t>() * len, len);
}

}  // namespace jenga::core
