// run_child on small /bin/sh programs: tee, environment, process group, timeouts (SIGTERM, then
// SIGKILL to the whole group, grandchildren included), stop flag, launch failures.
#include "harness/run/child_process.hpp"

#include "harness/common/error.hpp"

#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace jenga::harness {
namespace {

using test::read_file;
using test::read_lines;
using test::TempDir;

ChildSpec sh(const std::string& script) {
  ChildSpec s;
  s.exe = "/bin/sh";
  s.args = {"-c", script};
  s.env = {{"PATH", "/usr/bin:/bin"}};
  s.kill_grace_s = 0.5;
  return s;
}

struct Ran {
  ChildResult r;
  std::vector<std::string> lines;
};

Ran run(const ChildSpec& spec, const std::atomic<bool>* stop = nullptr) {
  TempDir dir;
  Ran out;
  {
    LogSink log(dir.file("log"));
    OutputTee tee(log);
    out.r = run_child(spec, tee, stop);
  }
  out.lines = read_lines(dir.file("log"));
  return out;
}

// True once `pid` no longer runs (gone, or a zombie waiting for a reaper that is not us).
bool gone(int pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    if (close != std::string::npos && close + 2 < s.size() && (s[close + 2] == 'Z' || s[close + 2] == 'X')) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int number_after(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines)
    if (l.rfind(prefix, 0) == 0) return std::stoi(l.substr(prefix.size()));
  return 0;
}

TEST(ChildProcess, TeesStdoutAndStderrAndNotesTheEnd) {
  const Ran x = run(sh(R"(echo '{"event":"start","task":"t","params":{}}'; echo hello; echo oops >&2;
                         echo '{"event":"exit","status":"ok"}'; echo '{"event":"end","status":"ok","message":"fine"}';
                         printf 'no newline at the end')"));
  ASSERT_TRUE(x.r.launched) << x.r.launch_error;
  EXPECT_EQ(x.r.exit_code, 0);
  EXPECT_EQ(x.r.signal, 0);
  EXPECT_EQ(x.r.end_status, "ok");
  EXPECT_EQ(x.r.end_message, "fine");
  EXPECT_FALSE(x.r.timed_out);
  std::vector<std::string> out, err;
  for (const auto& l : x.lines) (l.rfind("[stderr] ", 0) == 0 ? err : out).push_back(l);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], R"({"event":"start","task":"t","params":{}})");
  EXPECT_EQ(out[1], "hello");
  EXPECT_EQ(out[2], R"([spoofed] {"event":"exit","status":"ok"})");
  EXPECT_EQ(out[4], "no newline at the end");
  EXPECT_EQ(err, std::vector<std::string>{"[stderr] oops"});
}

TEST(ChildProcess, ExitCodeSignalAndOomText) {
  const Ran a = run(sh("exit 3"));
  EXPECT_EQ(a.r.exit_code, 3);
  EXPECT_EQ(a.r.signal, 0);
  EXPECT_EQ(a.r.end_status, "");
  const Ran b = run(sh("echo 'CUDA out of memory' >&2; kill -SEGV $$"));
  EXPECT_EQ(b.r.signal, SIGSEGV);
  EXPECT_TRUE(b.r.oom_text_seen);
  EXPECT_FALSE(b.r.timed_out);
}

TEST(ChildProcess, OwnEnvironmentWorkingDirectoryAndProcessGroup) {
  TempDir dir;
  ChildSpec s = sh(R"sh(echo "FOO=$FOO"; echo "HOME=${HOME-unset}"; echo "PWD=$(pwd -P)";
                      echo "PID=$$"; echo "PGID=$(cut -d' ' -f5 /proc/$$/stat)")sh");
  s.env["FOO"] = "bar baz";
  s.cwd = dir.str();
  const Ran x = run(s);
  ASSERT_TRUE(x.r.launched) << x.r.launch_error;
  EXPECT_EQ(x.lines[0], "FOO=bar baz");
  EXPECT_EQ(x.lines[1], "HOME=unset");  // only what the spec gives
  EXPECT_EQ(x.lines[2], "PWD=" + std::filesystem::canonical(dir.str()).string());
  const int pid = number_after(x.lines, "PID="), pgid = number_after(x.lines, "PGID=");
  EXPECT_EQ(pid, x.r.pid);
  EXPECT_EQ(pgid, pid) << "the worker leads its own process group";
  EXPECT_NE(pgid, static_cast<int>(::getpgrp()));
}

TEST(ChildProcess, TimeoutEscalatesToSigkillAndTakesTheGrandchild) {
  // Both the shell and its background child ignore SIGTERM, so only SIGKILL to the group helps.
  ChildSpec s = sh(R"(trap '' TERM; sleep 1000 & echo "grandchild=$!"; echo '{"event":"end","status":"ok"}'; wait)");
  s.timeout_s = 0.4;
  s.kill_grace_s = 0.3;
  const auto t0 = std::chrono::steady_clock::now();
  const Ran x = run(s);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(x.r.timed_out);
  EXPECT_FALSE(x.r.interrupted);
  EXPECT_EQ(x.r.signal, SIGKILL);
  EXPECT_GE(x.r.duration_s, 0.65);
  EXPECT_LT(wall, 30.0);  // not the 1000 s the grandchild would hold the pipe for
  const int grandchild = number_after(x.lines, "grandchild=");
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone(grandchild)) << "grandchild " << grandchild << " survived the timeout";
}

TEST(ChildProcess, TimeoutEndsACooperativeChildWithSigterm) {
  ChildSpec s = sh("sleep 1000");
  s.timeout_s = 0.2;
  s.kill_grace_s = 30;  // never reached
  const Ran x = run(s);
  EXPECT_TRUE(x.r.timed_out);
  EXPECT_EQ(x.r.signal, SIGTERM);
  EXPECT_LT(x.r.duration_s, 10.0);
}

TEST(ChildProcess, StopFlagInterrupts) {
  std::atomic<bool> stop{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  ChildSpec s = sh("echo started; sleep 1000");
  const Ran x = run(s, &stop);
  t.join();
  EXPECT_TRUE(x.r.interrupted);
  EXPECT_FALSE(x.r.timed_out);
  EXPECT_EQ(x.r.signal, SIGTERM);
  EXPECT_EQ(x.lines.at(0), "started");
}

TEST(ChildProcess, LeftoversAreKilledWhenTheWorkerExits) {
  const auto t0 = std::chrono::steady_clock::now();
  const Ran x = run(sh(R"(sleep 1000 & echo "bg=$!"; echo done)"));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(x.r.exit_code, 0);
  // A stall would last the background sleep's 1000 s; the harness's own grace period is about a
  // second. 30 s separates the two even on a loaded 2-core CI machine (1.9 s did not, once).
  EXPECT_LT(wall, 30.0) << "a background process holding the pipe must not stall the harness";
  const int bg = number_after(x.lines, "bg=");
  ASSERT_GT(bg, 0);
  EXPECT_TRUE(gone(bg));
}

TEST(ChildProcess, MissingProgramIsALaunchError) {
  ChildSpec s;
  s.exe = "/nonexistent/jenga-worker";
  const Ran x = run(s);
  EXPECT_FALSE(x.r.launched);
  EXPECT_NE(x.r.launch_error.find("/nonexistent/jenga-worker"), std::string::npos) << x.r.launch_error;
  EXPECT_TRUE(x.lines.empty());
}

TEST(ChildProcess, BinaryOutputIsKeptVerbatim) {
  const Ran x = run(sh(R"(printf 'a\000b\377\n')"));
  ASSERT_EQ(x.lines.size(), 1u);
  EXPECT_EQ(x.lines[0], std::string("a\0b\xff", 4));
}

TEST(ChildProcess, CurrentEnvironmentMatchesGetenv) {
  const auto env = current_environment();
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  ASSERT_TRUE(env.count("PATH"));
  EXPECT_EQ(env.at("PATH"), path);
}

}  // namespace
}  // namespace jenga::harness

namespace jenga::harness {
namespace {

// The harness may ignore SIGPIPE (jenga does); the worker must not inherit that.
TEST(ChildProcess, SignalDispositionsAreReset) {
  struct sigaction ign {}, old_pipe {}, old_term {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, &old_pipe);
  ::sigaction(SIGTERM, &ign, &old_term);
  // exec: grep replaces the shell and reads its own status. Reading the shell's status from a
  // child of it raced with the shell's own fork, during which dash blocks every signal.
  const Ran x = run(sh("exec grep -E '^Sig(Ign|Blk)' /proc/self/status"));
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ASSERT_EQ(x.lines.size(), 2u);
  for (const auto& l : x.lines) {
    const unsigned long long mask = std::stoull(l.substr(l.find(':') + 1), nullptr, 16);
    EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0u) << l;
    EXPECT_EQ(mask & (1ull << (SIGTERM - 1)), 0u) << l;
  }
}

}  // namespace
}  // namespace jenga::harness

namespace jenga::harness {
namespace {

// A log that cannot be written (a full disk) aborts the run, and its worker with it.
TEST(ChildProcess, UnwritableLogKillsTheWorker) {
  TempDir dir;
  const std::string pid_file = dir.file("pid");
  LogSink log("/dev/full");
  OutputTee tee(log);
  ChildSpec s = sh("echo $$ > '" + pid_file + "'; echo hello; sleep 1000");
  EXPECT_THROW(run_child(s, tee, nullptr), Error);
  const int pid = std::stoi(read_file(pid_file));
  EXPECT_TRUE(gone(pid));
}

}  // namespace
}  // namespace jenga::harness
