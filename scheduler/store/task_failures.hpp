// Failure markers (Table::TaskFailures): one per completed task whose result is failure, kept
// in the same transaction as the task's own change, so GET .../taskcounts counts failures
// with an index range instead of reading every completed task. Idempotent both ways.
#pragma once

#include "scheduler/store/store.hpp"

#include <cstdint>
#include <string_view>

namespace openbatch::store {

// Marks (job, task) failed; a task already marked stays marked once. False on a store error.
bool mark_task_failed(Writer& w, std::string_view job_id, std::string_view task_id);

// Clears the mark (reactivated, deleted); no mark is fine.
void clear_task_failed(Writer& w, std::string_view job_id, std::string_view task_id);

// Failed tasks of the job.
int64_t failed_task_count(Reader& r, std::string_view job_id);

}  // namespace openbatch::store
