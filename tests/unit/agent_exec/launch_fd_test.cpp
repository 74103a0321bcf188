// LaunchSpec::stdout_fd / stderr_fd: the child writes to descriptors the caller gives (pipes),
// which take precedence over output files and do not leak into other children.
#include "node_agent/exec/posix_launcher.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace openbatch::agent::exec {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;

// Everything readable from `fd` until EOF.
std::string drain(int fd) {
  std::string out;
  std::array<char, 4096> buf{};
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
}

struct Pipe {
  Pipe() {
    std::array<int, 2> fds{};
    EXPECT_EQ(::pipe2(fds.data(), O_CLOEXEC), 0);
    read_end = posix::UniqueFd(fds[0]);
    write_end = posix::UniqueFd(fds[1]);
  }
  posix::UniqueFd read_end;
  posix::UniqueFd write_end;
};

TEST(LaunchFd, WritesToTheCallersDescriptorsInsteadOfFiles) {
  TempDir dir;
  PosixLauncher launcher;
  Pipe out;
  Pipe err;
  LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 4"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.stdout_file = OutputFile{dir.path() / "stdout.txt"};  // the descriptors win
  spec.stdout_fd = out.write_end.get();
  spec.stderr_fd = err.write_end.get();
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child) << child.error().message;
  out.write_end.reset();
  err.write_end.reset();
  EXPECT_EQ(drain(out.read_end.get()), "to-out\n");
  EXPECT_EQ(drain(err.read_end.get()), "to-err\n");
  auto status = launcher.wait(*child, 10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 4);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "stdout.txt"));
}

TEST(LaunchFd, OneDescriptorMayServeBothStreams) {
  PosixLauncher launcher;
  Pipe both;
  LaunchSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo a; echo b >&2"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.stdout_fd = both.write_end.get();
  spec.stderr_fd = both.write_end.get();
  auto child = launcher.launch(spec);
  ASSERT_TRUE(child) << child.error().message;
  both.write_end.reset();
  EXPECT_EQ(drain(both.read_end.get()), "a\nb\n");
  ASSERT_TRUE(launcher.wait(*child, 10s));
}

TEST(LaunchFd, AnotherChildDoesNotInheritThePipe) {
  PosixLauncher launcher;
  Pipe out;
  LaunchSpec first;
  first.argv = {"/bin/sh", "-c", "echo first"};
  first.env = {"PATH=/usr/bin:/bin"};
  first.stdout_fd = out.write_end.get();
  auto a = launcher.launch(first);
  ASSERT_TRUE(a) << a.error().message;
  // A second, long-running child launched while the caller still holds the write end: were
  // the pipe inherited, the reader would not see EOF until it ended.
  LaunchSpec second;
  second.argv = {"/bin/sh", "-c", "sleep 30"};
  second.env = {"PATH=/usr/bin:/bin"};
  auto b = launcher.launch(second);
  ASSERT_TRUE(b) << b.error().message;
  out.write_end.reset();
  EXPECT_EQ(drain(out.read_end.get()), "first\n");
  ASSERT_TRUE(launcher.wait(*a, 10s));
  ASSERT_TRUE(launcher.kill_group(*b, SIGKILL));
  ASSERT_TRUE(launcher.wait(*b, 10s));
}

TEST(LaunchFd, AnInvalidDescriptorIsALaunchError) {
  PosixLauncher launcher;
  LaunchSpec spec;
  spec.argv = {"/bin/true"};
  spec.stdout_fd = -1;
  auto child = launcher.launch(spec);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code, kLaunchFailed);
}

}  // namespace
}  // namespace openbatch::agent::exec
