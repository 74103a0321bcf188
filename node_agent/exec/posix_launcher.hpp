// PosixLauncher: starts task processes with clone(CLONE_VM|CLONE_VFORK)/execve (style.md 3.6).
//
// Why not fork: fork copies the agent's page tables and the parent then takes a copy-on-write
// fault for every page it touches until the child execs (~25% of the agent's CPU per trivial
// task). With CLONE_VM the child borrows the parent's memory and CLONE_VFORK suspends the
// parent until the child has exec'd or exited, as glibc's posix_spawn does. posix_spawn itself
// cannot express setgroups/setgid/setuid/setrlimit/chdir, hence this careful clone.
//
// Everything is resolved before the clone: the program candidates (from argv[0] and the spec's
// PATH), argv/envp arrays, the output files (opened, and chowned to the task user), /dev/null
// and the child's stack. The child only reads that prepared data and makes async-signal-safe
// system calls on its own stack: reset the handled signals, setsid, dup2, setrlimit,
// setgroups -> setgid -> setuid (raw syscalls: glibc's wrappers would broadcast the change to
// the parent's threads), chdir, execve; on failure it writes {step, errno} to a close-on-exec
// pipe and calls _exit(127). The parent reads that pipe, so a failed exec comes back from
// launch() as an Error with the errno text.
//
// Signals: every signal is blocked around the clone, so no agent handler can run in the child
// on the shared memory. The child resets `reset_signals` (the ones the agent handles or ignores;
// the rest are default already) to SIG_DFL and then unblocks everything, so the task starts with
// default dispositions and an empty mask. A handler installed on a signal outside that list
// must be added to it.
//
// Thread-safe: only immutable state (the /dev/null descriptors opened once); concurrent
// launches from several threads are fine provided other threads open their descriptors with
// O_CLOEXEC (the child also marks fds >= 3 close-on-exec).
#pragma once

#include "common/posix/unique_fd.hpp"
#include "node_agent/exec/command_line.hpp"
#include "node_agent/exec/launcher.hpp"
#include "node_agent/exec/user.hpp"

#include <vector>

namespace openbatch::agent::exec {

class PosixLauncher final : public Launcher {
 public:
  // What the agent handles (SIGTERM, SIGINT, SIGCHLD) or ignores (SIGPIPE), and what a parent
  // process commonly ignores (SIGHUP under nohup, SIGQUIT, SIGUSR1/2, SIGALRM).
  static std::vector<int> default_reset_signals();

  PosixLauncher() : PosixLauncher(default_reset_signals()) {}
  explicit PosixLauncher(std::vector<int> reset_signals);

  [[nodiscard]] Result<Child> launch(const LaunchSpec& spec) override;
  [[nodiscard]] Result<ExitStatus> wait(Child child, std::chrono::milliseconds timeout) override;
  [[nodiscard]] Status kill_group(Child child, int signal) override;

 private:
  std::vector<int> reset_signals_;
  // /dev/null for stdin and absent outputs, opened once (-1: open it per launch).
  posix::UniqueFd null_read_;
  posix::UniqueFd null_write_;
};

}  // namespace openbatch::agent::exec
