// Launcher: the seam between the task runner and real processes. PosixLauncher is the
// implementation (clone(CLONE_VM|CLONE_VFORK)/exec/privilege drop); tests use it too, with
// /bin/sh (style.md 3.6).
#pragma once

#include "common/error.hpp"
#include "node_agent/exec/launch_spec.hpp"

#include <chrono>
#include <string_view>
#include <sys/types.h>

namespace openbatch::agent::exec {

// Error codes of the exec module.
inline constexpr std::string_view kLaunchFailed = "LaunchFailed";        // could not start
inline constexpr std::string_view kProgramNotFound = "ProgramNotFound";  // exec gave ENOENT
inline constexpr std::string_view kWaitTimedOut = "WaitTimedOut";        // still running
inline constexpr std::string_view kWaitFailed = "WaitFailed";
inline constexpr std::string_view kKillFailed = "KillFailed";
inline constexpr std::string_view kUserNotFound = "UserNotFound";
inline constexpr std::string_view kInvalidCommandLine = "InvalidCommandLine";

// Waiting without a deadline.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

// A started process. pgid is the process group kill_group signals: the child's own pid when
// it was started with new_process_group, else 0 (no group of its own to signal).
struct Child {
  pid_t pid = -1;
  pid_t pgid = 0;
};

struct ExitStatus {
  int exit_code = -1;  // the exit status; -1 when a signal ended the process
  int signal = 0;      // the terminating signal; 0 when it exited
  bool core_dumped = false;
  bool operator==(const ExitStatus&) const = default;
};

bool is_wait_timeout(const Error& e);

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts the process. A failure to exec (missing program, permission, bad cwd, failed
  // setuid) is an Error carrying the errno text, never an exit code.
  [[nodiscard]] virtual Result<Child> launch(const LaunchSpec& spec) = 0;
  // Reaps the child, waiting at most `timeout`; a kWaitTimedOut Error leaves it running.
  [[nodiscard]] virtual Result<ExitStatus> wait(Child child, std::chrono::milliseconds timeout) = 0;
  // Sends `signal` to the child's whole process group. A group that is already gone is fine.
  [[nodiscard]] virtual Status kill_group(Child child, int signal) = 0;
};

}  // namespace openbatch::agent::exec
