#include "scheduler/store/subtask_rows.hpp"

namespace openbatch::store {

std::string subtask_row_id(std::string_view task_id, int subtask_id) {
  std::string id(task_id);
  id += '/';
  id += std::to_string(subtask_id);
  return id;
}

bool put_subtask_row(Writer& w, std::string_view job_id, std::string_view task_id, int subtask_id,
                     std::string state, std::string body) {
  Record row{subtask_row_id(task_id, subtask_id), std::string(job_id), std::move(state),
             std::move(body), 0};
  if (auto existing = w.get(Table::Subtasks, job_id, row.id)) {
    row.id = existing->id;  // the spelling it was stored with
    row.parent = existing->parent;
    return w.update(Table::Subtasks, row);
  }
  return w.insert(Table::Subtasks, row);
}

std::optional<Record> get_subtask_row(Reader& r, std::string_view job_id, std::string_view task_id,
                                      int subtask_id) {
  return r.get(Table::Subtasks, job_id, subtask_row_id(task_id, subtask_id));
}

void erase_subtask_rows(Writer& w, std::string_view job_id, std::string_view task_id) {
  for (int k = 0; w.erase(Table::Subtasks, job_id, subtask_row_id(task_id, k)); ++k) {
  }
}

}  // namespace openbatch::store
