#include "scheduler/domain/entity_state.hpp"

#include "common/time.hpp"

#include <string>

namespace openbatch::domain {
namespace {

std::string_view string_member(const json& entity, const char* key) {
  if (!entity.is_object()) return {};
  auto it = entity.find(key);
  if (it == entity.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

}  // namespace

void move_state(json& entity, std::string_view to, TimePoint now) {
  auto it = entity.find("state");
  if (it != entity.end() && it->is_string() && it->get_ref<const std::string&>() == to) return;
  if (it != entity.end()) {
    entity["previousState"] = *it;
    entity["previousStateTransitionTime"] = entity.value("stateTransitionTime", std::string());
  }
  entity["state"] = to;
  entity["stateTransitionTime"] = format_iso8601(now);
}

void move_allocation_state(json& pool, AllocationState to, TimePoint now) {
  if (string_member(pool, "allocationState") == to_string(to)) return;
  pool["allocationState"] = to_string(to);
  pool["allocationStateTransitionTime"] = format_iso8601(now);
}

std::optional<TaskState> task_state(const json& task) {
  return parse_task_state(string_member(task, "state"));
}
std::optional<NodeState> node_state(const json& node) {
  return parse_node_state(string_member(node, "state"));
}
std::optional<JobState> job_state(const json& job) {
  return parse_job_state(string_member(job, "state"));
}
std::optional<PoolState> pool_state(const json& pool) {
  return parse_pool_state(string_member(pool, "state"));
}
AllocationState allocation_state(const json& pool) {
  if (!pool.is_object() || !pool.contains("allocationState")) return AllocationState::Steady;
  // An unknown spelling is treated like steady by every caller: neither resizing nor stopping.
  return parse_allocation_state(string_member(pool, "allocationState"))
      .value_or(AllocationState::Steady);
}

}  // namespace openbatch::domain
