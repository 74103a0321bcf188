// PosixLauncher: starts task processes with fork/execve (style.md 3.6).
//
// Everything is resolved before fork: the program candidates (from argv[0] and the spec's
// PATH), argv/envp arrays, the output files (opened, and chowned to the task user) and
// /dev/null. The child then only makes async-signal-safe calls: reset signals, setsid, dup2,
// setrlimit, setgroups -> setgid -> setuid, chdir, execve; on failure it writes
// {step, errno} to a close-on-exec pipe and calls _exit(127). The parent reads that pipe, so a
// failed exec comes back from launch() as an Error with the errno text.
//
// Thread-safe: no state; concurrent launches from several threads are fine provided other
// threads open their descriptors with O_CLOEXEC (the child also marks fds >= 3 close-on-exec).
#pragma once

#include "node_agent/exec/command_line.hpp"
#include "node_agent/exec/launcher.hpp"
#include "node_agent/exec/user.hpp"

namespace openbatch::agent::exec {

class PosixLauncher final : public Launcher {
 public:
  [[nodiscard]] Result<Child> launch(const LaunchSpec& spec) override;
  [[nodiscard]] Result<ExitStatus> wait(Child child, std::chrono::milliseconds timeout) override;
  [[nodiscard]] Status kill_group(Child child, int signal) override;
};

}  // namespace openbatch::agent::exec
