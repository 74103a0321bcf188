// run_command: runs a helper program (nvidia-smi, ucx_info) to completion with a deadline and
// captures what it prints. For discovery only: no stdin, the agent's environment, a cap on
// output; task launch has its own launcher.
//
// Thread-safe: each call forks its own child; nothing is shared between calls. The child runs
// only async-signal-safe calls between fork and exec and reports an exec failure over a
// close-on-exec pipe (style.md 3.3).
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::discovery {

// Where a program named without a '/' is looked for. Fixed rather than read from $PATH so
// that discovery behaves the same under systemd, sudo and tests (and getenv stays out of a
// threaded agent).
inline constexpr std::string_view kSystemSearchPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The most a command may print on each of stdout and stderr before it is killed.
inline constexpr std::size_t kMaxCommandOutput = std::size_t{8} << 20;

struct CommandResult {
  int exit_code = -1;  // the exit status; -1 when a signal ended it
  int signal = 0;      // the signal that ended it; 0 when it exited
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
  bool ok() const { return exit_code == 0; }
};

// Error codes of run_command.
inline constexpr std::string_view kCommandNotFound = "CommandNotFound";  // no such program
inline constexpr std::string_view kCommandTimedOut = "CommandTimedOut";  // killed at the deadline
inline constexpr std::string_view kCommandFailed = "CommandFailed";      // could not run it

// The program `name` resolves to: `name` itself when it contains '/', else the first
// executable regular file `<dir>/name` of the ':'-separated `search_path`. Error
// CommandNotFound when there is none.
[[nodiscard]] Result<std::filesystem::path> resolve_program(
    std::string_view name, std::string_view search_path = kSystemSearchPath);

// Runs argv[0] (resolved by resolve_program) with argv, stdin from /dev/null, in a new process
// group. Waits until it exits, or kills the group with SIGKILL when `timeout` passes and
// returns CommandTimedOut (a child stuck in the kernel may be left unreaped rather than hang
// the agent). A non-zero exit is a CommandResult, not an Error: callers decide what it means.
[[nodiscard]] Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout,
                                                std::string_view search_path = kSystemSearchPath);

// Whether `e` is run_command's CommandNotFound.
bool is_command_not_found(const Error& e);

}  // namespace openbatch::agent::discovery
