// A fresh temporary directory per test, removed afterwards, plus raw-byte file helpers for
// hand-crafting (corrupt) safetensors files. Directories are made and removed through POSIX
// (io/posix_files.hpp says why std::filesystem is unsafe next to LibTorch).
#pragma once

#include "io/posix_files.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace jenga::test {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const char* tmp = std::getenv("TMPDIR");
    dir_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/jenga_io_" + std::to_string(::getpid()) + "_" +
           info->test_suite_name() + "_" + info->name();
    core::posix_files::remove_tree(dir_);
    core::posix_files::make_directories(dir_);
  }
  void TearDown() override { core::posix_files::remove_tree(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file with this header text and `data_bytes` zero bytes of data.
inline std::string st_file(const std::string& header, size_t data_bytes) {
  return u64_le(header.size()) + header + std::string(data_bytes, '\0');
}

}  // namespace jenga::test
