#include "harness/run/child_process.hpp"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/start_dir.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace jenga::harness {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

namespace {

// Process groups of running children, for kill_all_children_now(): a fixed table of lock-free
// atomics, so a signal handler may read it.
constexpr int kMaxTracked = 256;
std::atomic<int> g_groups[kMaxTracked];

int track_group(int pgid) {
  for (int i = 0; i < kMaxTracked; ++i) {
    int expected = 0;
    if (g_groups[i].compare_exchange_strong(expected, pgid)) return i;
  }
  return -1;  // untracked: the parent-death signal still covers the direct child
}

void untrack_group(int slot) {
  if (slot >= 0) g_groups[slot].store(0);
}

// Both ends close-on-exec: a child started meanwhile by another slot must not inherit them
// (it would hold our pipe open and we would never see end of file). dup2 onto the child's
// fd 1/2 clears the flag on the copy the child needs.
bool make_pipe(int fds[2], std::string& err) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    err = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

void kill_all_children_now() {
  for (auto& g : g_groups) {
    const int pgid = g.load();
    if (pgid > 0) ::kill(-pgid, SIGKILL);
  }
}

ChildResult run_child(const ChildSpec& spec, OutputTee& tee, const std::atomic<bool>* stop) {
  ChildResult res;
  std::string exe = spec.exe;
  if (exe.find('/') != std::string::npos && exe.front() != '/') exe = std::filesystem::absolute(exe).string();

  int out_fds[2] = {-1, -1}, err_fds[2] = {-1, -1};
  if (!make_pipe(out_fds, res.launch_error)) return res;
  if (!make_pipe(err_fds, res.launch_error)) {
    ::close(out_fds[0]);
    ::close(out_fds[1]);
    return res;
  }
  bp::pipe out_pipe(out_fds[0], out_fds[1]);  // (source, sink); the pipes close what they own
  bp::pipe err_pipe(err_fds[0], err_fds[1]);

  // The environment as execve wants it, handed to Boost's executor as its own env_init does
  // (bp::environment's operator[] reads freed memory when its storage grows).
  std::vector<std::string> env_strings;
  env_strings.reserve(spec.env.size());
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  auto set_env = [&envp](auto& exec) { exec.env = envp.data(); };

  const pid_t parent = ::getpid();
  auto in_child = [parent](auto& /*exec*/) {
    // Between fork and exec: async-signal-safe calls only.
    ::setpgid(0, 0);                      // own group: timeouts and Ctrl-C reach grandchildren
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);   // harness gone (even by kill -9) -> worker gone
    if (::getppid() != parent) ::_exit(127);  // the harness died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the spawning thread may block signals
    ::signal(SIGTERM, SIG_DFL);  // an ignored signal stays ignored across exec: undo the
    ::signal(SIGINT, SIG_DFL);   // harness's own choices (jenga ignores SIGPIPE)
    ::signal(SIGPIPE, SIG_DFL);
  };

  const Clock::time_point t0 = Clock::now();
  int pid = 0;
  try {
    bp::child c(bp::exe(exe), bp::args(spec.args), bp::extend::on_setup(set_env), bp::std_in < bp::null,
                bp::std_out > out_pipe, bp::std_err > err_pipe,
                bp::start_dir(spec.cwd.empty() ? std::string(".") : spec.cwd), bp::extend::on_exec_setup(in_child));
    pid = c.id();
    c.detach();  // reaped below with waitid/waitpid, which Boost must not race
  } catch (const std::system_error& e) {
    res.launch_error = std::string("cannot start ") + exe + ": " + e.what();
    res.duration_s = seconds_between(t0, Clock::now());
    return res;
  }
  res.launched = true;
  res.pid = pid;
  const int tracked = track_group(pid);
  bool exited = false;
  // If teeing throws (the log cannot be written), the worker must not run on unwatched.
  struct Reaper {
    int pid, tracked;
    const bool& exited;
    ~Reaper() {
      if (exited) return;
      ::kill(-pid, SIGKILL);
      int st = 0;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      untrack_group(tracked);
    }
  } reaper{pid, tracked, exited};

  const int out_fd = out_pipe.native_source();
  const int err_fd = err_pipe.native_source();
  set_nonblocking(out_fd);
  set_nonblocking(err_fd);
  LineSplitter out_lines(tee, LineSplitter::Channel::Stdout);
  LineSplitter err_lines(tee, LineSplitter::Channel::Stderr);
  bool out_open = true, err_open = true;

  const bool has_deadline = spec.timeout_s > 0;
  const Clock::time_point deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(has_deadline ? spec.timeout_s : 0));
  const auto grace = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(0.0, spec.kill_grace_s)));
  bool term_sent = false, kill_sent = false;
  Clock::time_point kill_at{}, exited_at{};
  int wait_status = 0;
  int idle_ms = 1;  // back-off while waiting for an exit with both pipes already closed
  std::array<char, 1 << 16> buf{};

  auto drain = [&](int fd, LineSplitter& lines, bool& open) {
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n > 0) {
        lines.feed(buf.data(), static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < buf.size()) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      lines.finish();  // end of file (or an error, which ends the stream all the same)
      open = false;
      return;
    }
  };

  for (;;) {
    const Clock::time_point now = Clock::now();
    if (!exited) {
      if (!term_sent) {
        const bool late = has_deadline && now >= deadline;
        const bool stopping = stop && stop->load();
        if (late || stopping) {
          (late ? res.timed_out : res.interrupted) = true;
          ::kill(-pid, SIGTERM);
          term_sent = true;
          kill_at = now + grace;
        }
      } else if (!kill_sent && now >= kill_at) {
        ::kill(-pid, SIGKILL);
        kill_sent = true;
      }
      siginfo_t info{};
      // WNOWAIT: the zombie keeps its group id reserved while we kill what is left in it.
      const int w = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
      const bool lost = w < 0 && errno == ECHILD;  // reaped behind our back (SIGCHLD ignored)
      if ((w == 0 && info.si_pid == pid) || lost) {
        ::kill(-pid, SIGKILL);  // leftover grandchildren would hold the pipes open
        if (lost) {
          wait_status = -1;
        } else {
          while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
          }
        }
        exited = true;
        exited_at = Clock::now();
        res.duration_s = seconds_between(t0, exited_at);
        untrack_group(tracked);
      }
    }
    if (exited && !out_open && !err_open) break;
    // Something outside the group (a setsid'ed grandchild) may hold a pipe: give up on it.
    if (exited && Clock::now() - exited_at > std::chrono::seconds(2)) {
      if (out_open) out_lines.finish();
      if (err_open) err_lines.finish();
      tee.harness_note("output still open 2 s after the worker exited; stopped reading");
      break;
    }

    int wait_ms = 100;  // stop-flag polling period
    if (!exited && has_deadline && !term_sent)
      wait_ms = std::min<long long>(wait_ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
    if (!exited && term_sent && !kill_sent)
      wait_ms = std::min<long long>(wait_ms, std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - now).count() + 1);
    if (!out_open && !err_open) {  // only the exit to wait for: it follows the pipes closing closely
      wait_ms = std::min(wait_ms, idle_ms);
      idle_ms = std::min(idle_ms * 2, 50);
    }
    if (exited) wait_ms = std::min(wait_ms, 50);
    wait_ms = std::max(wait_ms, 0);

    pollfd fds[2];
    nfds_t nfds = 0;
    if (out_open) fds[nfds++] = {out_fd, POLLIN, 0};
    if (err_open) fds[nfds++] = {err_fd, POLLIN, 0};
    const int rc = ::poll(nfds ? fds : nullptr, nfds, wait_ms);
    if (rc > 0) {
      for (nfds_t i = 0; i < nfds; ++i) {
        if (!fds[i].revents) continue;
        if (fds[i].fd == out_fd)
          drain(out_fd, out_lines, out_open);
        else
          drain(err_fd, err_lines, err_open);
      }
    }
  }

  if (wait_status == -1) {
    res.exit_code = -1;  // status unknown
    tee.harness_note("the worker's exit status was lost (reaped elsewhere)");
  } else if (WIFSIGNALED(wait_status)) {
    res.signal = WTERMSIG(wait_status);
  } else if (WIFEXITED(wait_status)) {
    res.exit_code = WEXITSTATUS(wait_status);
  }
  res.end_status = tee.end_status();
  res.end_message = tee.end_message();
  res.oom_text_seen = tee.oom_text_seen();
  return res;
}

}  // namespace jenga::harness
