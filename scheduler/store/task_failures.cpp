#include "scheduler/store/task_failures.hpp"

#include <string>

namespace openbatch::store {

bool mark_task_failed(Writer& w, std::string_view job_id, std::string_view task_id) {
  if (w.get(Table::TaskFailures, job_id, task_id)) return true;
  Record marker{std::string(task_id), std::string(job_id), "failed", "{}", 0};
  return w.insert(Table::TaskFailures, marker);
}

void clear_task_failed(Writer& w, std::string_view job_id, std::string_view task_id) {
  w.erase(Table::TaskFailures, job_id, task_id);
}

int64_t failed_task_count(Reader& r, std::string_view job_id) {
  return r.count(Table::TaskFailures, job_id, std::nullopt);
}

}  // namespace openbatch::store
