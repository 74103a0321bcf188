// NodeLayout: path builders for the Azure node tree (see layout.hpp). No filesystem access.
#include "node_agent/tasks/layout.hpp"

#include <string>
#include <utility>

namespace openbatch::agent::tasks {
namespace {

namespace fs = std::filesystem;

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

Status check_id(std::string_view property, std::string_view id) {
  if (is_valid_id(id)) return {};
  return errors::invalid_property(property, id,
                                  "ids are 1 to 64 characters of letters, digits, '_' and '-'");
}

}  // namespace

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

TaskPaths task_paths_under(const fs::path& dir) {
  return TaskPaths{dir, dir / "wd", dir / "stdout.txt", dir / "stderr.txt", dir / "certs"};
}

NodeLayout::NodeLayout(fs::path root) : root_(std::move(root).lexically_normal()) {
  // "/a/b/" normalises to "/a/b/"; drop the empty trailing element so joins stay clean.
  if (root_.has_relative_path() && !root_.has_filename()) root_ = root_.parent_path();
}

TaskPaths NodeLayout::start_task() const { return task_paths_under(startup_dir()); }

Result<fs::path> NodeLayout::job_dir(std::string_view job_id) const {
  if (auto s = check_id("jobId", job_id); !s) return s.error();
  return workitems_dir() / std::string(job_id) / "job-1";
}

Result<TaskPaths> NodeLayout::task(std::string_view job_id, std::string_view task_id) const {
  auto job = job_dir(job_id);
  if (!job) return job.error();
  if (auto s = check_id("taskId", task_id); !s) return s.error();
  return task_paths_under(*job / std::string(task_id));
}

Result<TaskPaths> NodeLayout::subtask(std::string_view job_id, std::string_view task_id,
                                      std::int32_t subtask_id) const {
  if (subtask_id < 0) {
    return errors::invalid_property("subtaskId", std::to_string(subtask_id),
                                    "a subtask id is 0 (the primary) or more");
  }
  auto primary = task(job_id, task_id);
  if (!primary || subtask_id == 0) return primary;
  return task_paths_under(primary->dir / std::to_string(subtask_id));
}

}  // namespace openbatch::agent::tasks
