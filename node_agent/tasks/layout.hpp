// NodeLayout: the Azure Batch directory tree under a node root (batch-api.md section 10).
//
//   $ROOT/startup/{wd,stdout.txt,stderr.txt,certs}       the start task
//   $ROOT/shared/  applications/  fsmounts/  volatile/
//   $ROOT/workitems/<job>/job-1/<task>/{wd,stdout.txt,stderr.txt,certs}
//   $ROOT/workitems/<job>/job-1/<task>/<subtaskId>/{...}  a multi-instance subtask
//
// Pure: builds paths, never touches the filesystem. Every id is checked against Azure's id
// alphabet ([A-Za-z0-9_-], 1..64 characters) first, so no id can name "..", contain a '/'
// or otherwise escape the root. Thread-safe: an immutable value.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace openbatch::agent::tasks {

// The longest job or task id Azure accepts.
inline constexpr std::size_t kMaxIdLength = 64;

// True when `id` is 1..64 characters of [A-Za-z0-9_-].
bool is_valid_id(std::string_view id);

// The directories and files of one task (start task, task or subtask).
struct TaskPaths {
  std::filesystem::path dir;          // AZ_BATCH_TASK_DIR
  std::filesystem::path working_dir;  // <dir>/wd, AZ_BATCH_TASK_WORKING_DIR
  std::filesystem::path stdout_file;  // <dir>/stdout.txt
  std::filesystem::path stderr_file;  // <dir>/stderr.txt
  std::filesystem::path certs_dir;    // <dir>/certs, AZ_BATCH_CERTIFICATES_DIR
};

class NodeLayout {
 public:
  // `root` is AZ_BATCH_NODE_ROOT_DIR, e.g. /mnt/batch/tasks; made lexically normal.
  explicit NodeLayout(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path shared_dir() const { return root_ / "shared"; }
  std::filesystem::path startup_dir() const { return root_ / "startup"; }
  std::filesystem::path applications_dir() const { return root_ / "applications"; }
  std::filesystem::path mounts_dir() const { return root_ / "fsmounts"; }
  std::filesystem::path volatile_dir() const { return root_ / "volatile"; }
  std::filesystem::path workitems_dir() const { return root_ / "workitems"; }

  // The start task's files: $ROOT/startup/...
  TaskPaths start_task() const;

  // $ROOT/workitems/<job>/job-1; an Error (400 InvalidPropertyValue) for a bad id.
  [[nodiscard]] Result<std::filesystem::path> job_dir(std::string_view job_id) const;

  // $ROOT/workitems/<job>/job-1/<task>/...; this is also AZ_BATCH_TASK_SHARED_DIR of a
  // multi-instance task and the directory of its primary (instance 0).
  [[nodiscard]] Result<TaskPaths> task(std::string_view job_id, std::string_view task_id) const;

  // $ROOT/workitems/<job>/job-1/<task>/<subtaskId>/... for subtask 1..N-1; subtask 0 (the
  // primary) gives the task's own paths. A negative subtask id is an Error.
  [[nodiscard]] Result<TaskPaths> subtask(std::string_view job_id, std::string_view task_id,
                                          std::int32_t subtask_id) const;

 private:
  std::filesystem::path root_;
};

// The standard files under a task directory `dir`.
TaskPaths task_paths_under(const std::filesystem::path& dir);

}  // namespace openbatch::agent::tasks
