#include "scheduler/cluster/attempt_writes.hpp"

#include "scheduler/domain/states.hpp"
#include "scheduler/domain/task_execution.hpp"

namespace openbatch::cluster {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

std::string dump_entity(const json& entity) {
  return entity.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool requeue_if_current(store::Writer& w, const std::string& job_id, const std::string& task_id,
                        const std::string& attempt_id, TimePoint now, RequeuedTask& out) {
  out = RequeuedTask{};
  auto record = w.get(store::Table::Tasks, job_id, task_id);
  if (!record || record->state != to_string(TaskState::Running)) return true;
  auto task = json::parse(record->body, nullptr, false);
  if (!task.is_object() || current_attempt_id(task) != attempt_id) return true;
  json next = requeue_task(std::move(task), now);
  record->state = to_string(TaskState::Active);
  record->body = dump_entity(next);
  if (!w.update(store::Table::Tasks, *record)) return false;
  out = {true, record->seq, std::move(next)};
  return true;
}

}  // namespace openbatch::cluster
