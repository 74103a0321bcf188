// PosixLauncher: clone(CLONE_VM|CLONE_VFORK)/execve with privilege drop and an exec-error pipe
// (see posix_launcher.hpp).
#include "node_agent/exec/posix_launcher.hpp"

#include "common/files/beneath.hpp"
#include "common/posix/unique_fd.hpp"

#include <climits>

#include <array>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <grp.h>
#include <memory>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

namespace openbatch::agent::exec {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The child's stack: it runs a few system calls, but sanitizer builds need room.
constexpr std::size_t kChildStackBytes = 64 * 1024;

// Where a bare program name is looked for when the spec's environment has no PATH.
constexpr std::string_view kFallbackSearchPath = "/usr/local/bin:/usr/bin:/bin";

using Fd = posix::UniqueFd;
using posix::errno_text;

// The step the child was at when it failed; reported to the parent with errno.
enum class Step : int { Setsid, Dup, Rlimit, Setgroups, Setgid, Setuid, Chdir, Exec };

const char* step_name(Step s) {
  switch (s) {
    case Step::Setsid:
      return "setsid";
    case Step::Dup:
      return "dup2";
    case Step::Rlimit:
      return "setrlimit";
    case Step::Setgroups:
      return "setgroups";
    case Step::Setgid:
      return "setgid";
    case Step::Setuid:
      return "setuid";
    case Step::Chdir:
      return "chdir";
    case Step::Exec:
      return "execve";
  }
  return "child";
}

struct ChildReport {
  int step = 0;
  int err = 0;
};

Error exec_error(std::string_view code, std::string message, int err) {
  return Error(500, std::string(code), std::move(message),
               {{"errno", std::to_string(err)}, {"errnoText", errno_text(err)}});
}

Error launch_failed(std::string_view what, int err) {
  return exec_error(kLaunchFailed, std::string(what) + ": " + errno_text(err), err);
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// Moves fd above 0..2, so that dup2 onto stdio never meets one of our own descriptors.
Result<Fd> above_stdio(Fd fd) {
  if (fd.get() > 2) return fd;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return launch_failed("fcntl", errno);
  return Fd(moved);
}

// A caller's descriptor for stdout/stderr: used as it is, or -- when it is 0..2, which the
// child's dup2 onto stdio would clobber -- a close-on-exec copy above them, kept in `copy`.
Result<int> caller_fd(int fd, Fd& copy) {
  if (fd < 0) return launch_failed("output descriptor", EBADF);
  if (fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return launch_failed("fcntl", errno);
  copy = Fd(moved);
  return moved;
}

// The agent opens it as root in a directory the task may have written to: no symlink is
// followed and only a regular file with no other name is truncated or handed to the task user
// (files::open_regular_file). Mode 0600: the task directory is traversable by other users.
Result<Fd> open_output(const OutputFile& out, const LaunchSpec& spec) {
  int flags = O_WRONLY | O_CREAT;
  flags |= out.mode == OutputMode::Append ? O_APPEND : O_TRUNC;
  auto opened = files::open_regular_file(out.path, flags, 0600);
  if (!opened) return launch_failed("open " + out.path.string(), opened.err);
  Fd fd = std::move(opened.fd);
  if (spec.uid || spec.gid) {
    uid_t uid = spec.uid ? *spec.uid : static_cast<uid_t>(-1);
    gid_t gid = spec.gid ? *spec.gid : static_cast<gid_t>(-1);
    if (::fchown(fd.get(), uid, gid) != 0) {
      return launch_failed("chown " + out.path.string(), errno);
    }
  }
  return above_stdio(std::move(fd));
}

Result<Fd> open_dev_null(int flags) {
  Fd fd(::open("/dev/null", flags | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return launch_failed("open /dev/null", errno);
  return above_stdio(std::move(fd));
}

// The launcher's cached /dev/null when it has one, else a fresh one kept in `fresh`.
Result<int> dev_null(const Fd& cached, int flags, Fd& fresh) {
  if (cached.get() >= 0) return cached.get();
  auto f = open_dev_null(flags);
  if (!f) return f.error();
  fresh = std::move(*f);
  return fresh.get();
}

// The paths execve tries, in order: argv[0] itself when it has a '/', else each PATH entry.
std::vector<std::string> program_candidates(const LaunchSpec& spec) {
  const std::string& program = spec.argv.front();
  if (program.find('/') != std::string::npos) return {program};
  std::string_view search = kFallbackSearchPath;
  for (const auto& entry : spec.env) {
    if (std::string_view(entry).starts_with("PATH=")) search = std::string_view(entry).substr(5);
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t end = search.find(':', start);
    if (end == std::string_view::npos) end = search.size();
    std::string dir(search.substr(start, end - start));
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
    start = end + 1;
  }
  return out;
}

// execve's arrays point into the spec's strings: execve takes char* but never writes
// through them, so no copy of argv and the environment is needed.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The child runs on a stack the sanitizers do not know, in memory it shares with the parent:
// their runtime bookkeeping (ASan's noreturn stack unpoisoning, TSan's shadow) must stay out.
#define OPENBATCH_CHILD_SIDE __attribute__((no_sanitize("address", "thread", "undefined")))

// Child side: only async-signal-safe calls from here on, and no writes to the parent's memory
// (it is shared) except errno, which the suspended parent does not read.
[[noreturn]] OPENBATCH_CHILD_SIDE void child_fail(int report_fd, Step step, int err) {
  ChildReport r{static_cast<int>(step), err};
  ssize_t ignored = ::write(report_fd, &r, sizeof r);
  (void)ignored;
  ::_exit(127);
}

struct ChildPlan {
  const LaunchSpec* spec = nullptr;
  const std::vector<int>* reset_signals = nullptr;
  int report_fd = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::vector<char*> candidates;
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd = nullptr;
  const gid_t* groups = nullptr;
  std::size_t group_count = 0;
};

[[noreturn]] OPENBATCH_CHILD_SIDE void run_child(const ChildPlan& plan) {
  const LaunchSpec& spec = *plan.spec;
  // Default dispositions, then an empty mask: the agent's handlers must not run here (they
  // would touch the parent's memory) and its ignored signals (SIGPIPE) must not leak into the
  // task. Every signal is still blocked from the parent, so the order matters.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : *plan.reset_signals) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (spec.new_process_group && ::setsid() < 0) child_fail(plan.report_fd, Step::Setsid, errno);
  if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 ||
      ::dup2(plan.stderr_fd, 2) < 0) {
    child_fail(plan.report_fd, Step::Dup, errno);
  }
  // Whatever else the agent has open must not reach the task.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (const auto& lim : spec.rlimits) {
    rlimit r{lim.soft, lim.hard};
    if (::setrlimit(lim.resource, &r) != 0) child_fail(plan.report_fd, Step::Rlimit, errno);
  }
  // Raw syscalls: glibc's wrappers would signal the parent's other threads to change their
  // credentials too (setxid broadcast), as it believes it is one of them. The arguments go
  // through syscall()'s varargs as longs.
  if (spec.groups &&
      ::syscall(SYS_setgroups, static_cast<long>(plan.group_count), plan.groups) != 0) {
    child_fail(plan.report_fd, Step::Setgroups, errno);
  }
  if (spec.gid && ::syscall(SYS_setgid, static_cast<long>(*spec.gid)) != 0) {
    child_fail(plan.report_fd, Step::Setgid, errno);
  }
  if (spec.uid && ::syscall(SYS_setuid, static_cast<long>(*spec.uid)) != 0) {
    child_fail(plan.report_fd, Step::Setuid, errno);
  }
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan.report_fd, Step::Chdir, errno);

  // As execvp: skip candidates that are missing; remember a permission error.
  int err = ENOENT;
  bool saw_eacces = false;
  for (char* const* c = plan.candidates.data(); *c != nullptr; ++c) {
    ::execve(*c, plan.argv.data(), plan.envp.data());
    err = errno;
    if (err == EACCES) {
      saw_eacces = true;
    } else if (err != ENOENT && err != ENOTDIR) {
      break;
    }
  }
  if (saw_eacces && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  child_fail(plan.report_fd, Step::Exec, err);
}

OPENBATCH_CHILD_SIDE int child_main(void* plan) { run_child(*static_cast<const ChildPlan*>(plan)); }

// clone(CLONE_VM|CLONE_VFORK) with every signal blocked meanwhile; returns the pid or -errno.
pid_t spawn(const ChildPlan& plan) {
  // Heap, not mmap: the allocator reuses it, so the child takes no fresh page faults.
  std::unique_ptr<char[]> stack(new char[kChildStackBytes]);
  char* top = stack.get() + kChildStackBytes;
  top -= reinterpret_cast<std::uintptr_t>(top) % 16;  // the ABI's stack alignment
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  const pid_t pid =
      ::clone(child_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<ChildPlan*>(&plan));
  const int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return pid < 0 ? -err : pid;
}

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
    s.core_dumped = WCOREDUMP(status);
  }
  return s;
}

Error wait_failed(pid_t pid, int err) {
  return exec_error(kWaitFailed, "waitpid " + std::to_string(pid) + ": " + errno_text(err), err);
}

Error wait_timed_out(pid_t pid, std::chrono::milliseconds timeout) {
  return Error(504, std::string(kWaitTimedOut),
               "process " + std::to_string(pid) + " still running after " +
                   std::to_string(timeout.count()) + " ms");
}

}  // namespace

bool is_wait_timeout(const Error& e) { return e.code == kWaitTimedOut; }

std::vector<int> PosixLauncher::default_reset_signals() {
  return {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
}

PosixLauncher::PosixLauncher(std::vector<int> reset_signals)
    : reset_signals_(std::move(reset_signals)) {
  // Opened once: two syscalls per launch saved. On failure launch() opens them itself.
  if (auto r = open_dev_null(O_RDONLY)) null_read_ = std::move(*r);
  if (auto w = open_dev_null(O_WRONLY)) null_write_ = std::move(*w);
}

Result<Child> PosixLauncher::launch(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return Error(400, std::string(kLaunchFailed), "the launch spec has no program");
  }
  for (const auto& a : spec.argv) {
    if (has_nul(a)) return Error(400, std::string(kLaunchFailed), "an argument contains NUL");
  }
  for (const auto& e : spec.env) {
    if (has_nul(e) || e.find('=') == std::string::npos || e.front() == '=') {
      return Error(400, std::string(kLaunchFailed), "not a NAME=VALUE environment entry: " + e);
    }
  }

  // Resolve everything the child needs before the clone.
  Fd in_fresh;
  auto in = spec.stdin_fd ? caller_fd(*spec.stdin_fd, in_fresh)
                          : dev_null(null_read_, O_RDONLY, in_fresh);
  if (!in) return in.error();
  Fd out_fd;
  Fd err_fd;
  int out = -1;
  int errfd = -1;
  if (spec.stdout_fd) {
    auto f = caller_fd(*spec.stdout_fd, out_fd);
    if (!f) return f.error();
    out = *f;
  } else if (spec.stdout_file) {
    auto f = open_output(*spec.stdout_file, spec);
    if (!f) return f.error();
    out_fd = std::move(*f);
    out = out_fd.get();
  } else {
    auto f = dev_null(null_write_, O_WRONLY, out_fd);
    if (!f) return f.error();
    out = *f;
  }
  if (spec.stderr_fd) {
    auto f = caller_fd(*spec.stderr_fd, err_fd);
    if (!f) return f.error();
    errfd = *f;
  } else if (spec.stderr_file) {
    auto f = open_output(*spec.stderr_file, spec);
    if (!f) return f.error();
    err_fd = std::move(*f);
    errfd = err_fd.get();
  } else {
    auto f = dev_null(null_write_, O_WRONLY, err_fd);
    if (!f) return f.error();
    errfd = *f;
  }
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return launch_failed("pipe2", errno);
  Fd report_read(fds[0]);
  Fd report_write(fds[1]);

  std::vector<std::string> candidates = program_candidates(spec);
  const std::string cwd = spec.cwd.string();
  ChildPlan plan;
  plan.spec = &spec;
  plan.reset_signals = &reset_signals_;
  plan.report_fd = report_write.get();
  plan.stdin_fd = *in;
  plan.stdout_fd = out;
  plan.stderr_fd = errfd;
  plan.candidates = c_strings(candidates);
  plan.argv = c_strings(spec.argv);
  plan.envp = c_strings(spec.env);
  plan.cwd = cwd.empty() ? nullptr : cwd.c_str();
  if (spec.groups) {
    plan.groups = spec.groups->data();
    plan.group_count = spec.groups->size();
  }

  // Returns once the child has exec'd or exited: its report, if any, is in the pipe.
  const pid_t pid = spawn(plan);
  if (pid < 0) return launch_failed("clone", -pid);

  report_write.reset();
  ChildReport report;
  ssize_t n = 0;
  do {
    n = ::read(report_read.get(), &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return Child{pid, spec.new_process_group ? pid : 0};

  // The child failed before or at execve: reap it and turn its report into an Error.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof report)) {
    return launch_failed("reading the child's exec report", n < 0 ? errno : EIO);
  }
  const auto step = static_cast<Step>(report.step);
  const std::string& program = spec.argv.front();
  if (step == Step::Exec) {
    auto code = report.err == ENOENT ? kProgramNotFound : kLaunchFailed;
    return exec_error(code, "cannot execute '" + program + "': " + errno_text(report.err),
                      report.err);
  }
  return exec_error(
      kLaunchFailed,
      "cannot start '" + program + "': " + step_name(step) + ": " + errno_text(report.err),
      report.err);
}

Result<ExitStatus> PosixLauncher::wait(Child child, std::chrono::milliseconds timeout) {
  if (child.pid <= 0) return wait_failed(child.pid, ECHILD);
  int status = 0;
  // A deadline beyond a century is the same as none (and would overflow the clock).
  if (timeout >= std::chrono::hours(24 * 365 * 100)) {
    while (true) {
      pid_t r = ::waitpid(child.pid, &status, 0);
      if (r == child.pid) return decode(status);
      if (r < 0 && errno != EINTR) return wait_failed(child.pid, errno);
    }
  }
  const auto deadline = SteadyClock::now() + std::max(timeout, std::chrono::milliseconds(0));
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  while (true) {
    pid_t r = ::waitpid(child.pid, &status, WNOHANG);
    if (r == child.pid) return decode(status);
    if (r < 0 && errno != EINTR) return wait_failed(child.pid, errno);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return wait_timed_out(child.pid, timeout);
    if (pidfd.get() >= 0) {
      pollfd p{pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), INT_MAX)));
    } else {  // kernels before 5.3: poll the process table
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
}

Status PosixLauncher::kill_group(Child child, int signal) {
  if (child.pgid <= 1) {
    return Error(400, std::string(kKillFailed),
                 "process " + std::to_string(child.pid) + " has no process group of its own");
  }
  if (::kill(-child.pgid, signal) == 0 || errno == ESRCH) return {};
  const int err = errno;
  return exec_error(kKillFailed,
                    "kill process group " + std::to_string(child.pgid) + ": " + errno_text(err),
                    err);
}

}  // namespace openbatch::agent::exec
