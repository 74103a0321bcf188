// posix_spawn-based child processes for the CLI integration test (see process.hpp).
#include "process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace openbatch::testing {
namespace {

using namespace std::chrono_literals;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  out.reserve(items.size() + 1);
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Spawns argv with stdout and stderr sent to the given files (the same file twice is fine).
pid_t spawn(std::vector<std::string> argv, std::vector<std::string> env,
            const std::filesystem::path& out, const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (out == err) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for `pid` up to `timeout`; returns the exit code, 128+signal, or -1 on timeout.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 || std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::filesystem::path& scratch, std::chrono::seconds timeout) {
  const auto out_path = scratch / "stdout";
  const auto err_path = scratch / "stderr";
  ProcessResult result;
  const pid_t pid = spawn(argv, env, out_path, err_path);
  if (pid < 0) {
    ADD_FAILURE() << "cannot start " << argv.front();
    return result;
  }
  result.exit_code = wait_for(pid, timeout);
  if (result.exit_code == -1) {
    ::kill(pid, SIGKILL);
    wait_for(pid, 10s);
    ADD_FAILURE() << argv.front() << " ran past " << timeout.count() << "s";
  }
  result.out = read_all(out_path);
  result.err = read_all(err_path);
  return result;
}

SchedulerProcess::SchedulerProcess(const std::filesystem::path& data_dir,
                                   const std::string& account, const std::string& key)
    : log_path_(data_dir.parent_path() / "scheduler.log") {
  const auto ready = data_dir.parent_path() / "ready";
  pid_ = spawn({OPENBATCH_SCHEDULER_BIN, "--listen", "127.0.0.1:0", "--data-dir", data_dir.string(),
                "--account", account, "--ready-file", ready.string(), "--log-level", "warn",
                // No agents: these tests look at pools, jobs and tasks as the API keeps them,
                // so pools stay without nodes and tasks stay active (static provisioning).
                "--provisioner", "static"},
               // The key in the environment: the scheduler refuses it on its command line.
               {"PATH=/usr/bin:/bin", "OPENBATCH_ACCOUNT_KEY=" + key}, log_path_, log_path_);
  if (pid_ < 0) {
    ADD_FAILURE() << "cannot start " << OPENBATCH_SCHEDULER_BIN;
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_all(ready);
    if (text.starts_with("http://")) {
      url_ = text;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "the scheduler did not become ready:\n" << log();
}

SchedulerProcess::~SchedulerProcess() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGTERM);
  if (wait_for(pid_, 20s) == -1) {
    ::kill(pid_, SIGKILL);
    wait_for(pid_, 10s);
  }
}

std::string SchedulerProcess::log() const { return read_all(log_path_); }

}  // namespace openbatch::testing
