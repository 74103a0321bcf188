// Task directories, made so that no task can redirect what the agent (root) does in them:
//
//   <task dir>/          the agent's, 0711 when a task user runs there (it reaches wd/ and its
//                        output files, but can neither list, add, remove nor replace an
//                        entry, so stdout.txt is always the file the agent made), 0700 when
//                        the task runs as the agent's own user
//   <task dir>/wd/       the task user's, 0700 (AZ_BATCH_TASK_WORKING_DIR)
//
// Every step works on directory descriptors through common/files/beneath.hpp (mkdirat, then
// fchown/fchmod on an O_NOFOLLOW descriptor), never on a path a task could swap:
//   new directory       mkdirat(mode), then fstat, and fchmod/fchown where the umask or the
//                       agent's identity left it different
//   job's first task    the parent is missing: its parents are made first (default mode,
//                       owned by the agent, as create_directories makes them); later tasks of
//                       the job never pay for that
//   existing directory  (a retried task) fstat, then fchmod/fchown only where it differs
// Unlike the chmod this replaces, a setgid bit inherited from the parent is kept.
// Errors are 500 TaskPreparationFailed with the errno text. Thread-safe.
#pragma once

#include "common/error.hpp"
#include "node_agent/runner/resource_files.hpp"

#include <filesystem>
#include <optional>
#include <string_view>

namespace openbatch::agent::runner {

// The task directory (AZ_BATCH_TASK_DIR, a subtask's or the start task's): the agent's own;
// 0711 when `task_user` is set (the user the task runs as), else 0700.
[[nodiscard]] Status make_task_dir(const std::filesystem::path& dir,
                                   const std::optional<FileOwner>& task_user);

// The task's working directory (wd/ in a task directory): 0700, handed to `owner`.
[[nodiscard]] Status make_working_dir(const std::filesystem::path& dir,
                                      const std::optional<FileOwner>& owner);

// When the task ends: its directory becomes the agent's with mode 0700, so that the next task
// leased the same user cannot reach its files; the agent still serves them.
[[nodiscard]] Status close_task_dir(const std::filesystem::path& dir);

// Writes a small file the agent makes for a task (a multi-instance task's hostfile): mode
// 0644, replaced whole, never through a symlink or into another file's hard link, handed to
// `owner`.
[[nodiscard]] Status write_task_file(const std::filesystem::path& file, std::string_view text,
                                     const std::optional<FileOwner>& owner);

}  // namespace openbatch::agent::runner
