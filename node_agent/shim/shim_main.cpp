// The per-task supervisor process (see shim_main.hpp).
#include "node_agent/shim/shim_main.hpp"

#include "common/posix/unique_fd.hpp"
#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/shim/adoption.hpp"
#include "node_agent/shim/shim_request.hpp"
#include "node_agent/shim/shim_status.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace openbatch::agent::shim {
namespace {

using posix::UniqueFd;

constexpr int kRequestFd = 0;
// How often the output sizes are checked without an inotify event (a file on a filesystem
// without inotify, or an event lost).
constexpr int kCheckIntervalMs = 1000;
// After a size check, later events wait this long: a task writing without pause would
// otherwise wake the shim once per write.
constexpr auto kCoalesce = std::chrono::milliseconds(2);

std::string read_request() {
  std::string text;
  char buffer[65536];
  while (text.size() <= kMaxRequestBytes) {
    const ssize_t n = ::read(kRequestFd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

void answer(const ShimAnswer& a) {
  const std::string text = encode_answer(a);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(kRequestFd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the agent is gone: the status file tells the next one
    done += static_cast<std::size_t>(n);
  }
  ::close(kRequestFd);
  // fd 0 stays taken (by /dev/null), so nothing else lands there.
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null > 0) {
    ::dup2(null, kRequestFd);
    ::close(null);
  }
}

bool is_regular(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

std::uint64_t size_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// The first output (1 or 2) over the cap, or 0.
int over_cap(const ShimRequest& r) {
  if (r.max_output_bytes == 0) return 0;
  for (int fd : {1, 2}) {
    if (is_regular(fd) && size_of(fd) > r.max_output_bytes) return fd;
  }
  return 0;
}

OutputLimitHit hit_of(const ShimRequest& r, int fd) {
  return OutputLimitHit{fd == 1 ? r.stdout_name : r.stderr_name, r.max_output_bytes};
}

// Ends the shim the way the task ended.
[[noreturn]] void exit_like(const ShimStatus& s) {
  if (s.signal == 0) ::_exit(s.exit_code & 0xff);
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::signal(s.signal, SIG_DFL);
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, s.signal);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::kill(::getpid(), s.signal);
  ::_exit(128 + s.signal);  // a signal that does not kill (SIGCHLD...): the shell's convention
}

}  // namespace

int shim_main(int argc, char** argv) {
  if (argc != 1) {
    ShimAnswer a;
    a.error = Error(500, "ShimFailed", "usage: openbatch-agent shim DIR");
    answer(a);
    return 2;
  }
  const std::filesystem::path dir = argv[0];
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM})
    ::signal(sig, SIG_IGN);

  auto request = decode_request(read_request());
  if (!request) {
    answer({0, request.error()});
    return 2;
  }
  exec::LaunchSpec spec = request->spec;
  spec.stdout_fd = 1;
  spec.stderr_fd = 2;
  spec.stdin_fd.reset();
  spec.stdout_file.reset();
  spec.stderr_file.reset();
  exec::PosixLauncher launcher;
  auto child = launcher.launch(spec);
  if (!child) {
    answer({0, child.error()});
    return 2;
  }
  ShimStatus status;
  status.shim_pid = ::getpid();
  status.shim_start_ticks = process_start_ticks(status.shim_pid).value_or(0);
  status.boot_id = request->boot_id;
  status.task_pid = child->pid;
  if (auto st = write_status_file(dir, status); !st) {
    ::kill(child->pgid > 1 ? -child->pgid : child->pid, SIGKILL);
    (void)launcher.wait(*child, exec::kWaitForever);
    answer({0, st.error()});
    return 2;
  }
  answer({child->pid, std::nullopt});

  // Supervise: the task's end (pidfd) and its outputs' growth (inotify on the open files).
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child->pid, 0)));
  UniqueFd watch;
  if (request->max_output_bytes > 0) {
    watch = UniqueFd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    for (int fd : {1, 2}) {
      if (watch.get() >= 0 && is_regular(fd)) {
        // The /proc link leads to the open file itself, whatever its name is now.
        const std::string link = "/proc/self/fd/" + std::to_string(fd);
        (void)::inotify_add_watch(watch.get(), link.c_str(), IN_MODIFY);
      }
    }
  }
  int wait_status = 0;
  int hit_fd = 0;  // the output over the cap
  while (true) {
    if (hit_fd == 0 && (hit_fd = over_cap(*request)) != 0) ::kill(-child->pid, SIGKILL);
    const pid_t r = ::waitpid(child->pid, &wait_status, WNOHANG);
    if (r == child->pid) break;
    if (r < 0 && errno != EINTR) break;
    std::array<pollfd, 2> fds{{{pidfd.get(), POLLIN, 0}, {watch.get(), POLLIN, 0}}};
    const int timeout =
        request->max_output_bytes > 0 ? kCheckIntervalMs : (pidfd.get() >= 0 ? -1 : 100);
    ::poll(fds.data(), fds.size(), timeout);
    if (fds[1].revents & POLLIN) {
      char events[4096];
      while (::read(watch.get(), events, sizeof events) > 0) {
      }
      std::this_thread::sleep_for(kCoalesce);
    }
  }
  // A task that crossed the cap on its last write is over it all the same.
  if (hit_fd == 0) hit_fd = over_cap(*request);
  if (hit_fd != 0) {
    status.output_limit = hit_of(*request, hit_fd);
    // What it wrote before the kill landed goes beyond the cap: the file ends at the cap.
    (void)::ftruncate(hit_fd, static_cast<off_t>(request->max_output_bytes));
  }
  status.state = ShimStatus::State::Exited;
  if (WIFEXITED(wait_status)) {
    status.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
    status.core_dumped = WCOREDUMP(wait_status);
  }
  (void)write_status_file(dir, status);  // the agent still sees the wait status below
  ::close(1);
  ::close(2);
  exit_like(status);
}

}  // namespace openbatch::agent::shim
