// PosixLauncher with real processes: output capture, exit codes, exec errors, process-group
// kill (grandchild included), wait timeouts, and the privilege drop (root only).
#include "node_agent/exec/posix_launcher.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <pthread.h>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace openbatch::agent::exec {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LaunchSpec shell(const std::string& script, const TempDir& dir) {
  LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.cwd = dir.path();
  spec.stdout_file = OutputFile{dir.path() / "stdout.txt", OutputMode::Truncate};
  spec.stderr_file = OutputFile{dir.path() / "stderr.txt", OutputMode::Truncate};
  return spec;
}

// Waits for `path` to hold a line and returns it.
std::string wait_for_line(const std::filesystem::path& path) {
  for (int i = 0; i < 500; ++i) {
    std::string s = read_file(path);
    if (!s.empty() && s.back() == '\n') return s.substr(0, s.size() - 1);
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

TEST(PosixLauncher, CapturesStdoutStderrAndExitCode) {
  TempDir dir;
  PosixLauncher launcher;
  auto child = launcher.launch(shell("echo out; echo err >&2; exit 3", dir));
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_GT(child->pid, 0);
  EXPECT_EQ(child->pgid, child->pid);
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->exit_code, 3);
  EXPECT_EQ(status->signal, 0);
  EXPECT_EQ(read_file(dir.path() / "stdout.txt"), "out\n");
  EXPECT_EQ(read_file(dir.path() / "stderr.txt"), "err\n");
}

TEST(PosixLauncher, UsesExactlyTheSpecEnvironmentAndWorkingDirectory) {
  TempDir dir;
  PosixLauncher launcher;
  auto child = launcher.launch(shell("pwd; echo \"$GREETING\"; echo \"${HOME-unset}\"", dir));
  ASSERT_TRUE(child);
  auto status = launcher.wait(*child, kWaitForever);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 0);
  EXPECT_EQ(read_file(dir.path() / "stdout.txt"),
            std::filesystem::canonical(dir.path()).string() + "\nhello\nunset\n");
}

TEST(PosixLauncher, AppendModeKeepsEarlierOutput) {
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("echo second", dir);
  spec.stdout_file->mode = OutputMode::Append;
  { std::ofstream(dir.path() / "stdout.txt") << "first\n"; }
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(launcher.wait(*child, 10s));
  EXPECT_EQ(read_file(dir.path() / "stdout.txt"), "first\nsecond\n");
}

TEST(PosixLauncher, FindsBareProgramNamesOnTheSpecPath) {
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("", dir);
  spec.argv = {"sh", "-c", "exit 7"};
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child) << child.error().message;
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 7);
}

TEST(PosixLauncher, MissingProgramIsAnErrorNotAnExitCode) {
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("", dir);
  spec.argv = {"/no/such/program", "x"};
  auto child = launcher.launch(spec);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code, kProgramNotFound);
  EXPECT_NE(child.error().message.find("No such file or directory"), std::string::npos)
      << child.error().message;
  EXPECT_EQ(child.error().detail("errno"), std::to_string(ENOENT));

  spec.argv = {"no-such-program-anywhere"};
  auto bare = launcher.launch(spec);
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, kProgramNotFound);
}

TEST(PosixLauncher, NonExecutableFileAndBadCwdAreErrors) {
  TempDir dir;
  PosixLauncher launcher;
  std::ofstream(dir.path() / "script.sh") << "echo hi\n";
  auto spec = shell("", dir);
  spec.argv = {(dir.path() / "script.sh").string()};
  auto child = launcher.launch(spec);
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("Permission denied"), std::string::npos)
      << child.error().message;

  spec = shell("true", dir);
  spec.cwd = dir.path() / "missing";
  auto no_cwd = launcher.launch(spec);
  ASSERT_FALSE(no_cwd);
  EXPECT_EQ(no_cwd.error().code, kLaunchFailed);
  EXPECT_NE(no_cwd.error().message.find("chdir"), std::string::npos) << no_cwd.error().message;
}

TEST(PosixLauncher, RejectsAnEmptySpec) {
  PosixLauncher launcher;
  EXPECT_FALSE(launcher.launch(LaunchSpec{}));
  LaunchSpec spec;
  spec.argv = {"/bin/true"};
  spec.env = {"NOEQUALS"};
  EXPECT_FALSE(launcher.launch(spec));
}

TEST(PosixLauncher, WaitTimesOutAndLeavesTheProcessRunning) {
  TempDir dir;
  PosixLauncher launcher;
  auto child = launcher.launch(shell("exec sleep 100", dir));
  ASSERT_TRUE(child);
  const auto start = std::chrono::steady_clock::now();
  auto status = launcher.wait(*child, 200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(status);
  EXPECT_TRUE(is_wait_timeout(status.error()));
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(::kill(child->pid, 0), 0);
  ASSERT_TRUE(launcher.kill_group(*child, SIGKILL));
  auto killed = launcher.wait(*child, 10s);
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_EQ(killed->signal, SIGKILL);
  EXPECT_EQ(killed->exit_code, -1);
}

TEST(PosixLauncher, KillGroupReachesGrandchildren) {
  // Become the subreaper so that the orphaned grandchild is ours to reap and observe.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  TempDir dir;
  PosixLauncher launcher;
  auto child = launcher.launch(shell("sleep 100 & echo $! > grandchild; wait", dir));
  ASSERT_TRUE(child);
  const std::string line = wait_for_line(dir.path() / "grandchild");
  ASSERT_FALSE(line.empty());
  const pid_t grandchild = std::stoi(line);
  EXPECT_EQ(::getpgid(grandchild), child->pgid);

  ASSERT_TRUE(launcher.kill_group(*child, SIGKILL));
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGKILL);
  int gstatus = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = ::waitpid(grandchild, &gstatus, WNOHANG);
    if (reaped == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(reaped, grandchild);
  EXPECT_TRUE(WIFSIGNALED(gstatus));
  EXPECT_EQ(WTERMSIG(gstatus), SIGKILL);
  // The group is gone now; killing it again is not an error.
  EXPECT_TRUE(launcher.kill_group(*child, SIGKILL));
}

TEST(PosixLauncher, KillGroupRefusesAProcessWithoutItsOwnGroup) {
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("exit 0", dir);
  spec.new_process_group = false;
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->pgid, 0);
  EXPECT_FALSE(launcher.kill_group(*child, SIGTERM));
  ASSERT_TRUE(launcher.wait(*child, 10s));
}

TEST(PosixLauncher, AppliesResourceLimits) {
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("ulimit -n", dir);
  spec.rlimits = {{RLIMIT_NOFILE, 64, 64}};
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(launcher.wait(*child, 10s));
  EXPECT_EQ(read_file(dir.path() / "stdout.txt"), "64\n");
}

// The agent ignores SIGPIPE, handles SIGTERM/SIGCHLD and the launcher blocks everything
// around the clone: none of that may reach the task.
TEST(PosixLauncher, TheTaskStartsWithDefaultSignalsAndAnEmptyMask) {
  TempDir dir;
  PosixLauncher launcher;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction handler {};
  handler.sa_handler = [](int) {};
  struct sigaction old_pipe {};
  struct sigaction old_hup {};
  struct sigaction old_term {};
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old_pipe), 0);
  ASSERT_EQ(::sigaction(SIGHUP, &ignore, &old_hup), 0);
  ASSERT_EQ(::sigaction(SIGTERM, &handler, &old_term), 0);
  sigset_t usr2;
  sigset_t old_mask;
  ::sigemptyset(&usr2);
  ::sigaddset(&usr2, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr2, &old_mask), 0);
  auto spec = shell("", dir);
  spec.argv = {"/bin/cat", "/proc/self/status"};  // no shell, no grep: their own handlers
  auto child = launcher.launch(spec);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ASSERT_TRUE(child) << child.error().message;
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 0) << read_file(dir.path() / "stderr.txt");
  const std::string status_text = read_file(dir.path() / "stdout.txt");
  for (const char* line : {"\nSigBlk:\t0000000000000000\n", "\nSigIgn:\t0000000000000000\n",
                           "\nSigCgt:\t0000000000000000\n"}) {
    EXPECT_NE(status_text.find(line), std::string::npos) << line << " not in " << status_text;
  }
}

// The child shares the parent's memory until it execs: launches from several threads at once
// must neither disturb each other nor the parent.
TEST(PosixLauncher, ConcurrentLaunchesFromSeveralThreads) {
  PosixLauncher launcher;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&launcher, &ok, t] {
      for (int i = 0; i < 25; ++i) {
        LaunchSpec spec;
        spec.argv = {"/bin/sh", "-c", "exit " + std::to_string((t * 25 + i) % 100)};
        spec.env = {"PATH=/usr/bin:/bin"};
        auto child = launcher.launch(spec);
        if (!child) continue;
        auto status = launcher.wait(*child, 10s);
        if (status && status->exit_code == (t * 25 + i) % 100) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST(LookupUser, ResolvesRootAndRejectsUnknownNames) {
  auto root = lookup_user("root");
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  EXPECT_NE(std::find(root->groups.begin(), root->groups.end(), 0u), root->groups.end());
  auto missing = lookup_user("no-such-user-openbatch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, kUserNotFound);
  EXPECT_FALSE(lookup_user(""));
}

TEST(PosixLauncher, DropsPrivilegesToNobody) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto nobody = lookup_user("nobody");
  if (!nobody) GTEST_SKIP() << "no user 'nobody' here";
  TempDir dir;
  PosixLauncher launcher;
  auto spec = shell("id -u; id -g; id -G", dir);
  spec.cwd = "/";  // the TempDir is 0700 root
  spec.uid = nobody->uid;
  spec.gid = nobody->gid;
  spec.groups = nobody->groups;
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child) << child.error().message;
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 0) << read_file(dir.path() / "stderr.txt");
  std::string groups;
  for (gid_t g : nobody->groups) groups += (groups.empty() ? "" : " ") + std::to_string(g);
  EXPECT_EQ(
      read_file(dir.path() / "stdout.txt"),
      std::to_string(nobody->uid) + "\n" + std::to_string(nobody->gid) + "\n" + groups + "\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "stdout.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->uid);

  // After the drop, a directory only root may enter is a chdir Error.
  spec.cwd = dir.path();
  auto denied = launcher.launch(spec);
  ASSERT_FALSE(denied);
  EXPECT_NE(denied.error().message.find("chdir: Permission denied"), std::string::npos)
      << denied.error().message;
}

}  // namespace
}  // namespace openbatch::agent::exec
