// make_task_dir: creates a task directory (or its wd) with mode 0700 and hands it to the task
// user, with as few system calls as the common case allows, since it runs twice per task:
//   new directory       mkdir(0700) (+ chown to the task user); no chmod unless the umask
//                       strips bits of 0700 (read once from /proc/self/status)
//   job's first task    mkdir fails with ENOENT: the missing parents are made first (default
//                       mode, owned by the agent, as create_directories makes them), then
//                       mkdir again; later tasks of the job never pay for that
//   existing directory  (a retried task) stat, then chmod/chown only where it differs
// Unlike the chmod this replaces, a setgid bit inherited from the parent is kept.
// Errors are 500 TaskPreparationFailed with the errno text. Thread-safe.
#pragma once

#include "common/error.hpp"
#include "node_agent/runner/resource_files.hpp"

#include <filesystem>
#include <optional>
#include <string_view>

namespace openbatch::agent::runner {

[[nodiscard]] Status make_task_dir(const std::filesystem::path& dir,
                                   const std::optional<FileOwner>& owner);

// Writes a small file the agent makes for a task (a multi-instance task's hostfile): mode
// 0644, replaced whole, never through a symlink, handed to `owner`.
[[nodiscard]] Status write_task_file(const std::filesystem::path& file, std::string_view text,
                                     const std::optional<FileOwner>& owner);

}  // namespace openbatch::agent::runner
