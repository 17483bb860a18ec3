// Running the real `jenga` binary on a temporary repository (experiments/, configs/profiles/
// written by the test) with the fake worker, and reading back what it left.
#pragma once

#include "tests/harness/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace jenga::e2e {

inline const std::string kJenga = JENGA_BINARY_DIR "/bin/jenga";
inline const std::string kFakeWorker = JENGA_BINARY_DIR "/bin/fake_worker";

using harness::test::read_file;
using harness::test::read_lines;
using harness::test::write_file;

// A throwaway repository root: configs/profiles/{cpu,duo}.yaml and whatever experiments the
// test writes. "duo" has two GPU slots and a 4 GiB memory cap.
class TempRepo {
 public:
  TempRepo() {
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() / ("jenga-e2e-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(root_ / "experiments");
    write("configs/profiles/cpu.yaml",
          "description: no GPU\ngpu_pattern: \"\"\nmemory_gib: 0\ngpus: 0\nslots_per_gpu: 1\ntimeout_s: 30\n");
    write("configs/profiles/duo.yaml",
          "description: two GPU slots, capped\ngpu_pattern: \"\"\nmemory_gib: 80\nmemory_cap_gib: 4\ngpus: 2\n"
          "slots_per_gpu: 1\ntimeout_s: 30\n");
  }
  ~TempRepo() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempRepo(const TempRepo&) = delete;
  TempRepo& operator=(const TempRepo&) = delete;

  std::string root() const { return root_.string(); }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }
  void write(const std::string& rel, const std::string& text) const { write_file(path(rel), text); }
  std::string db() const { return path("results.sqlite"); }
  std::string log(const std::string& experiment, const std::string& key) const {
    return path("logs/" + experiment + "/" + key + ".jsonl");
  }
  // Lines of a marker file (one per worker invocation: "<key> <pid>").
  std::vector<std::string> marks(const std::string& name = "marker") const { return read_lines(path(name)); }
  int marks_of(const std::string& key, const std::string& name = "marker") const {
    int n = 0;
    for (const auto& l : marks(name)) n += l.rfind(key + " ", 0) == 0;
    return n;
  }

 private:
  std::filesystem::path root_;
};

struct Result {
  int rc = -1;  // exit code, or 128 + signal
  std::string out, err;
};

// Starts jenga (argv after the program name) in `cwd`, stdout/stderr to files; returns its pid.
inline pid_t spawn_jenga(const std::vector<std::string>& args, const std::string& cwd, const std::string& out,
                         const std::string& err) {
  std::vector<std::string> argv_s = {kJenga};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int n = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || n < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::dup2(n, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

// Waits for `pid`; kills it after `limit_s` (then rc reports the signal).
inline int wait_exit(pid_t pid, double limit_s = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_s);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs jenga to completion.
inline Result jenga(const TempRepo& repo, std::vector<std::string> args, const std::string& cwd = {}) {
  static int n = 0;
  const std::string out = repo.path("jenga-out-" + std::to_string(n)), err = repo.path("jenga-err-" + std::to_string(n));
  ++n;
  Result r;
  r.rc = wait_exit(spawn_jenga(args, cwd.empty() ? repo.root() : cwd, out, err));
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// True once `pid` no longer runs (gone, or a zombie nobody has reaped yet).
inline bool process_gone(int pid, double within_s = 3) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(within_s);
  for (;;) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    const std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    if (close != std::string::npos && close + 2 < s.size() && (s[close + 2] == 'Z' || s[close + 2] == 'X')) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace jenga::e2e
