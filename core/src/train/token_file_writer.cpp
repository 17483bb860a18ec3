#include "jenga/core/train/token_file_writer.hpp"

#include "io/posix_files.hpp"
#include "jenga/core/error.hpp"

#include <cerrno>
#include <cstring>
#include <limits>

namespace jenga::core {
namespace {

void put_u32(std::vector<unsigned char>& out, uint32_t v) {
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<unsigned char>(v >> (8 * b)));
}

}  // namespace

TokenFileWriter::TokenFileWriter(const std::string& path, bool wide) : path_(path), tmp_(path + ".partial"), wide_(wide) {
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) throw Error(msg(tmp_, ": cannot create (", std::strerror(errno), ")"));
  const std::vector<unsigned char> zeros(256 * 4, 0);  // the header, filled in by close()
  if (std::fwrite(zeros.data(), 1, zeros.size(), f_) != zeros.size()) throw Error(msg(tmp_, ": write failed"));
}

TokenFileWriter::~TokenFileWriter() {
  if (f_) {
    std::fclose(f_);
    posix_files::remove_file_quietly(tmp_);
  }
}

void TokenFileWriter::append(const std::vector<int64_t>& tokens) {
  if (!f_) throw Error(msg(path_, ": append after close"));
  const int64_t limit = wide_ ? int64_t{std::numeric_limits<uint32_t>::max()} : int64_t{65535};
  if (count_ + static_cast<int64_t>(tokens.size()) > std::numeric_limits<int32_t>::max())
    throw Error(msg(path_, ": more than 2^31 - 1 tokens do not fit llm.c's header"));
  std::vector<unsigned char> buf;
  buf.reserve(tokens.size() * (wide_ ? 4 : 2));
  for (const int64_t t : tokens) {
    if (t < 0 || t > limit) throw Error(msg(path_, ": token ", t, " does not fit ", wide_ ? 32 : 16, "-bit tokens"));
    if (wide_) {
      put_u32(buf, static_cast<uint32_t>(t));
    } else {
      buf.push_back(static_cast<unsigned char>(t & 0xff));
      buf.push_back(static_cast<unsigned char>(t >> 8));
    }
  }
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), f_) != buf.size())
    throw Error(msg(tmp_, ": write failed (", std::strerror(errno), ")"));
  count_ += static_cast<int64_t>(tokens.size());
}

void TokenFileWriter::close() {
  if (!f_) throw Error(msg(path_, ": closed twice"));
  if (count_ == 0) throw Error(msg(path_, ": no tokens to write"));
  std::vector<unsigned char> header;
  put_u32(header, 20240520u);
  put_u32(header, wide_ ? 2u : 1u);
  put_u32(header, static_cast<uint32_t>(count_));
  bool ok = std::fseek(f_, 0, SEEK_SET) == 0 && std::fwrite(header.data(), 1, header.size(), f_) == header.size();
  ok = std::fflush(f_) == 0 && ok;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok) {
    posix_files::remove_file_quietly(tmp_);
    throw Error(msg(tmp_, ": write failed (", std::strerror(errno), ")"));
  }
  if (const std::string err = posix_files::rename_file(tmp_, path_); !err.empty()) {
    posix_files::remove_file_quietly(tmp_);
    throw Error(msg(path_, ": cannot rename the finished file into place (", err, ")"));
  }
}

}  // namespace jenga::core
