#include "scheduler/cluster/gang_rows.hpp"

#include "scheduler/cluster/attempt_writes.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/subtask_rows.hpp"
#include "scheduler/store/subtask_rows.hpp"

namespace openbatch::cluster {
using nlohmann::json;

namespace {

// Reads row k, applies `change` to its body and writes it back when it changed.
template <class Change>
RowChange edit_row(store::Writer& w, std::string_view job_id, std::string_view task_id,
                   int subtask_id, Change&& change) {
  auto record = store::get_subtask_row(w, job_id, task_id, subtask_id);
  if (!record) return RowChange::Unchanged;
  json row = json::parse(record->body, nullptr, false);
  if (!row.is_object() || !change(row)) return RowChange::Unchanged;
  record->state = domain::row_state(row);
  record->body = dump_entity(row);
  return w.update(store::Table::Subtasks, *record) ? RowChange::Written : RowChange::Failed;
}

}  // namespace

bool write_gang_rows(store::Writer& w, std::string_view job_id, std::string_view task_id,
                     const std::vector<domain::DispatchTarget>& targets,
                     const std::vector<std::string>& attempt_ids, TimePoint now) {
  for (auto& row : domain::gang_rows(job_id, task_id, targets, attempt_ids, now)) {
    if (!store::put_subtask_row(w, job_id, task_id, row.subtask_id, std::move(row.state),
                                dump_entity(row.body)))
      return false;
  }
  return true;
}

RowChange record_coordinated(store::Writer& w, std::string_view job_id, std::string_view task_id,
                             int subtask_id, std::string_view attempt_id, TimePoint now) {
  return edit_row(w, job_id, task_id, subtask_id,
                  [&](json& row) { return domain::mark_row_coordinated(row, attempt_id, now); });
}

RowChange record_subtask_completion(store::Writer& w, std::string_view job_id,
                                    std::string_view task_id, int subtask_id,
                                    std::string_view attempt_id, const protocol::Report& report,
                                    TimePoint now) {
  return edit_row(w, job_id, task_id, subtask_id,
                  [&](json& row) { return domain::complete_row(row, attempt_id, report, now); });
}

std::vector<bool> read_gang_coordination(store::Reader& r, std::string_view job_id,
                                         std::string_view task_id, std::string_view primary) {
  std::vector<bool> coordinated;
  for (int k = 0;; ++k) {
    auto record = store::get_subtask_row(r, job_id, task_id, k);
    if (!record) break;
    const json row = json::parse(record->body, nullptr, false);
    const std::string attempt_id = domain::instance_attempt_id(primary, k);
    if (!row.is_object() || row.value("attemptId", "") != attempt_id) break;
    coordinated.push_back(domain::row_coordinated(row, attempt_id));
  }
  return coordinated;
}

}  // namespace openbatch::cluster
