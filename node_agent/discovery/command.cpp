// run_command: fork/exec of a discovery helper with a deadline (see command.hpp). Everything
// the child needs (path, argv, /dev/null, pipes) is prepared before fork; the child only
// calls setpgid, dup2, execve, write and _exit.
#include "node_agent/discovery/command.hpp"

#include "common/posix/unique_fd.hpp"
#include "node_agent/discovery/scanner.hpp"
#include "node_agent/discovery/text.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX declares it so

namespace openbatch::agent::discovery {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using Fd = posix::UniqueFd;
using posix::errno_text;

struct Pipe {
  Fd read;
  Fd write;
};

Error failed(std::string_view what, int err) {
  return discovery_error(kCommandFailed, std::string(what) + ": " + errno_text(err));
}

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return failed("pipe2", errno);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Kills the child's process group and reaps the child if it dies within a second.
void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  auto until = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < until) {
    pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Error timed_out(std::string_view program, std::chrono::milliseconds timeout) {
  return discovery_error(kCommandTimedOut, std::string(program) + " did not finish within " +
                                               std::to_string(timeout.count()) + " ms");
}

// Reads what is ready on fd into `into`. Returns false at end of file or on a read error.
bool drain(int fd, std::string& into) {
  std::array<char, 65536> buf{};
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      into.append(buf.data(), static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

bool is_command_not_found(const Error& e) { return e.code == kCommandNotFound; }

Result<fs::path> resolve_program(std::string_view name, std::string_view search_path) {
  if (name.empty()) return discovery_error(kCommandNotFound, "empty program name");
  if (name.find('/') != std::string_view::npos) {
    fs::path p(name);
    if (is_executable_file(p)) return p;
    std::error_code ec;
    if (fs::exists(p, ec)) {
      return discovery_error(kCommandFailed, p.string() + " is not an executable file");
    }
    return discovery_error(kCommandNotFound, p.string() + ": no such file");
  }
  for (auto dir : split(search_path, ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    if (is_executable_file(p)) return p;
  }
  return discovery_error(kCommandNotFound,
                         std::string(name) + " not found in " + std::string(search_path));
}

namespace {

// A started child: its pid (also its process group) and the read ends of its output pipes.
struct Child {
  pid_t pid = -1;
  Fd out;
  Fd err;
};

// Forks and execs `path` with `argv`; returns once exec has succeeded or failed.
Result<Child> spawn(const std::string& path, std::vector<std::string> argv) {
  // Everything the child touches, prepared before fork.
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return failed("open /dev/null", errno);
  auto out = make_pipe();
  if (!out) return out.error();
  auto err = make_pipe();
  if (!err) return err.error();
  auto status = make_pipe();
  if (!status) return status.error();

  pid_t pid = ::fork();
  if (pid < 0) return failed("fork", errno);
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::dup2(devnull.get(), STDIN_FILENO) >= 0 && ::dup2(out->write.get(), STDOUT_FILENO) >= 0 &&
        ::dup2(err->write.get(), STDERR_FILENO) >= 0) {
      ::execve(path.c_str(), cargv.data(), environ);
    }
    int e = errno;
    [[maybe_unused]] ssize_t n = ::write(status->write.get(), &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that a kill before the child ran setpgid reaches it
  status->write.reset();

  // The status pipe closes on a successful exec, or carries errno when exec failed.
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(status->read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    if (child_errno == ENOENT) return discovery_error(kCommandNotFound, path + ": no such file");
    return failed("cannot execute " + path, child_errno);
  }
  return Child{pid, std::move(out->read), std::move(err->read)};
}

// Reads the child's stdout and stderr into `result` until both close. Kills the child and
// fails at the deadline or when it prints too much.
Status collect_output(const Child& child, Clock::time_point deadline, const std::string& name,
                      std::chrono::milliseconds timeout, CommandResult& result) {
  std::array<pollfd, 2> fds{{{child.out.get(), POLLIN, 0}, {child.err.get(), POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      kill_and_reap(child.pid);
      return timed_out(name, timeout);
    }
    int r = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      kill_and_reap(child.pid);
      return failed("poll", e);
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!drain(fds[i].fd, *sinks[i])) {
        fds[i].fd = -1;
        --open;
      } else if (sinks[i]->size() > kMaxCommandOutput) {
        kill_and_reap(child.pid);
        return discovery_error(kCommandFailed, name + " printed more than " +
                                                   std::to_string(kMaxCommandOutput) + " bytes");
      }
    }
  }
  return {};
}

// Reaps the child into `result`; both pipes are closed, so it normally exits at once.
Status wait_exit(pid_t pid, Clock::time_point deadline, const std::string& name,
                 std::chrono::milliseconds timeout, CommandResult& result) {
  int wstatus = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return failed("waitpid", errno);
    if (Clock::now() >= deadline) {
      kill_and_reap(pid);
      return timed_out(name, timeout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (WIFEXITED(wstatus)) result.exit_code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) result.signal = WTERMSIG(wstatus);
  return {};
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout, std::string_view search_path) {
  if (argv.empty()) return discovery_error(kCommandNotFound, "empty command");
  auto program = resolve_program(argv[0], search_path);
  if (!program) return program.error();
  const auto deadline = Clock::now() + timeout;
  auto child = spawn(program->string(), argv);
  if (!child) return child.error();
  CommandResult result;
  if (auto s = collect_output(*child, deadline, argv[0], timeout, result); !s) return s.error();
  if (auto s = wait_exit(child->pid, deadline, argv[0], timeout, result); !s) return s.error();
  return result;
}

}  // namespace openbatch::agent::discovery
