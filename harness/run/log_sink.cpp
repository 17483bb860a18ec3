#include "harness/run/log_sink.hpp"

#include "harness/common/error.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace jenga::harness {

namespace fs = std::filesystem;

LogSink::LogSink(const std::string& path) : path_(path) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) throw Error("cannot create directory " + parent.string() + ": " + ec.message());
  // O_CLOEXEC: children spawned concurrently by other slots must not inherit our log.
  fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot open log " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n') write_all("\n");
  }
}

LogSink::~LogSink() {
  if (fd_ >= 0) ::close(fd_);
}

void LogSink::write_line(std::string_view line) { write_line({}, line); }

void LogSink::write_line(std::string_view prefix, std::string_view line) {
  std::string buf;
  buf.reserve(prefix.size() + line.size() + 1);
  buf.append(prefix).append(line).push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  write_all(buf);
}

void LogSink::write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write log " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string iso8601_utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace jenga::harness
