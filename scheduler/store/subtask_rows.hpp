// Subtask rows (Table::Subtasks): one per instance of a multi-instance task's last dispatch,
// parent = the job, id = "<task id>/<k>" (k = 0 .. N-1), body and state as the caller gives
// them (domain/subtask_rows.hpp says what they hold). Keyed per instance so a report reads
// and writes one small row, never the whole gang; parented by the job so deleting a job
// removes its rows with erase_children() like its tasks.
#pragma once

#include "scheduler/store/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace openbatch::store {

std::string subtask_row_id(std::string_view task_id, int subtask_id);

// Writes row k of (job, task): inserts it, or replaces the one an earlier dispatch left.
// False on a store error.
bool put_subtask_row(Writer& w, std::string_view job_id, std::string_view task_id, int subtask_id,
                     std::string state, std::string body);

std::optional<Record> get_subtask_row(Reader& r, std::string_view job_id, std::string_view task_id,
                                      int subtask_id);

// Removes the task's rows (k = 0, 1, ... up to the first missing one); none is fine.
void erase_subtask_rows(Writer& w, std::string_view job_id, std::string_view task_id);

}  // namespace openbatch::store
