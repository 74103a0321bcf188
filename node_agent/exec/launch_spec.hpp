// LaunchSpec: everything needed to start one task process, as a plain value (style.md 3.6).
// Pure builders (tasks/environment.cpp, the task runner) fill it in; a Launcher carries it out.
// Thread-safe: a value.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/types.h>
#include <vector>

namespace openbatch::agent::exec {

enum class OutputMode { Truncate, Append };

// A file that receives stdout or stderr; created (mode 0600) when missing and, when the spec
// names a uid, owned by that user. Never through a symlink: anything but a regular file with
// one link is refused.
struct OutputFile {
  std::filesystem::path path;
  OutputMode mode = OutputMode::Truncate;
};

struct ResourceLimit {
  int resource = RLIMIT_NOFILE;  // RLIMIT_*
  rlim_t soft = RLIM_INFINITY;
  rlim_t hard = RLIM_INFINITY;
};

struct LaunchSpec {
  // argv[0] is the program: a path (relative ones resolve against `cwd`) or a bare name looked
  // up in the PATH of `env`, as execvp does. Never run through a shell.
  std::vector<std::string> argv;
  // The complete environment, NAME=VALUE; nothing is inherited from the agent.
  std::vector<std::string> env;
  // Working directory; empty keeps the agent's.
  std::filesystem::path cwd;
  // Identity; each absent field is left unchanged. Set `groups` (possibly empty) whenever
  // uid changes, or the agent's supplementary groups leak into the task.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<std::vector<gid_t>> groups;
  // Output files; absent means /dev/null.
  std::optional<OutputFile> stdout_file;
  std::optional<OutputFile> stderr_file;
  // Descriptors the child gets as stdout / stderr (dup2'd onto 1 / 2), such as the write ends
  // of pipes; each takes precedence over the file above. The caller keeps ownership and closes
  // its copy after launch; open them O_CLOEXEC so that no other child inherits them.
  std::optional<int> stdout_fd;
  std::optional<int> stderr_fd;
  // The child's stdin, the same way (a task's shim reads its request there, shim/); absent
  // means /dev/null.
  std::optional<int> stdin_fd;
  // Run in a new session and process group (setsid), so kill_group reaches every descendant.
  bool new_process_group = true;
  std::vector<ResourceLimit> rlimits;
};

}  // namespace openbatch::agent::exec
