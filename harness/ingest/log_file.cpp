#include "harness/ingest/log_file.hpp"

#include "harness/common/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>

namespace jenga::harness {

namespace fs = std::filesystem;

namespace {

fs::path normal_absolute(const std::string& p) {
  fs::path a = fs::absolute(p).lexically_normal();
  // "/a/b/" normalises to a path ending in an empty element; drop it so prefixes compare.
  if (a.has_relative_path() && a.filename().empty()) a = a.parent_path();
  return a;
}

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string repo_relative(const std::string& path, const std::string& repo_root) {
  const fs::path a = normal_absolute(path);
  if (repo_root.empty()) return a.string();
  const fs::path rel = a.lexically_relative(normal_absolute(repo_root));
  if (rel.empty() || *rel.begin() == "..") return a.string();
  return rel.string();
}

LogFile read_log_file(const std::string& path, const std::string& repo_root) {
  LogFile f;
  f.rel_path = repo_relative(path, repo_root);
  auto fail = [&](const char* what) { throw Error(std::string(what) + ": " + std::strerror(errno), Where{path, 0, 0}); };
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) fail("cannot open log");
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) fail("cannot stat log");
  if (!S_ISREG(st.st_mode)) throw Error("not a regular file", Where{path, 0, 0});
  f.mtime = static_cast<std::int64_t>(st.st_mtime);
  // Read to EOF rather than trusting st_size: the file may still be growing.
  std::size_t cap = static_cast<std::size_t>(st.st_size) + 1;
  f.data.reset(new char[cap]);
  std::size_t got = 0;
  for (;;) {
    if (got == cap) {
      std::unique_ptr<char[]> bigger(new char[cap * 2 + 4096]);
      std::copy(f.data.get(), f.data.get() + got, bigger.get());
      f.data = std::move(bigger);
      cap = cap * 2 + 4096;
    }
    const ssize_t n = ::read(fd.fd, f.data.get() + got, cap - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read log");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  f.size = static_cast<std::int64_t>(got);
  return f;
}

}  // namespace jenga::harness
