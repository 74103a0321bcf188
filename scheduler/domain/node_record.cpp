#include "scheduler/domain/node_record.hpp"

#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"

namespace openbatch::domain {
namespace {

// Azure keeps a short list of the tasks that ran on a node; so do we.
constexpr std::size_t kMaxRecentTasks = 10;

json& attempts_object(json& node) {
  json& ext = node["openbatch"];
  if (!ext.is_object()) ext = json::object();
  json& attempts = ext["attempts"];
  if (!attempts.is_object()) attempts = json::object();
  return attempts;
}

void update_counts(json& node) {
  const json& attempts = attempts_object(node);
  int slots = 0;
  for (const auto& [id, a] : attempts.items()) slots += a.value("slots", 1);
  node["runningTasksCount"] = static_cast<int>(attempts.size());
  node["runningTaskSlotsCount"] = slots;
}

}  // namespace

json make_node(const NewNode& spec, TimePoint now) {
  const std::string t = format_iso8601(now);
  json node = {{"id", spec.id},
               {"url", spec.url},
               {"state", spec.state},
               {"schedulingState", "enabled"},
               {"stateTransitionTime", t},
               {"allocationTime", t},
               {"lastBootTime", t},
               {"ipAddress", spec.ip_address},
               {"affinityId", "TVM:" + spec.id},
               {"vmSize", spec.vm_size},
               {"totalTasksRun", 0},
               {"totalTasksSucceeded", 0},
               {"runningTasksCount", 0},
               {"runningTaskSlotsCount", 0},
               {"isDedicated", true},
               {"recentTasks", json::array()},
               {"nodeAgentInfo", {{"version", "openbatch-agent"}, {"lastUpdateTime", t}}},
               {"virtualMachineInfo", {{"imageReference", spec.image_reference}}},
               {"openbatch",
                {{"provisioner", spec.provisioner},
                 {"hostname", spec.hostname},
                 {"attempts", json::object()}}}};
  return node;
}

void set_node_state(json& node, std::string_view state, TimePoint now) {
  if (node.value("state", "") == state) return;
  node["state"] = state;
  node["stateTransitionTime"] = format_iso8601(now);
}

void set_node_state(json& node, NodeState state, TimePoint now) {
  set_node_state(node, to_string(state), now);
}

void refresh_busy_state(json& node, TimePoint now) {
  const auto state = node_state(node);
  if (!state || !node_is_up(*state)) return;
  set_node_state(node, attempts_object(node).empty() ? NodeState::Idle : NodeState::Running, now);
}

std::string resting_state(std::string_view setup_state, bool has_attempts) {
  if (setup_state.empty() || setup_state == "ready")
    return std::string(to_string(has_attempts ? NodeState::Running : NodeState::Idle));
  return std::string(setup_state);
}

bool settle_node_state(json& node, NodeState requested, TimePoint now) {
  if (!node.is_object() || node_state(node) == NodeState::LeavingPool) return false;
  NodeState target = requested;
  if (node_is_up(target)) target = attempts_of(node).empty() ? NodeState::Idle : NodeState::Running;
  set_node_state(node, target, now);
  return true;
}

void leave_pool(json& node, std::string_view deallocation_option, TimePoint now) {
  move_state(node, NodeState::LeavingPool, now);
  node["openbatch"]["nodeDeallocationOption"] = deallocation_option;
}

void apply_node_status(json& node, std::string_view setup_state, const json& start_task_info,
                       const json& errors, const json& start_task, std::uint64_t generation,
                       TimePoint now) {
  json& ext = node["openbatch"];
  if (!ext.is_object()) ext = json::object();
  ext["setupState"] = setup_state;
  ext["setupGeneration"] = generation;
  if (start_task_info.is_object()) {
    node["startTaskInfo"] = start_task_info;
  } else {
    node.erase("startTaskInfo");
  }
  if (start_task.is_object()) {
    node["startTask"] = start_task;
  } else {
    node.erase("startTask");
  }
  if (errors.is_array() && !errors.empty()) {
    node["errors"] = errors;
  } else {
    node.erase("errors");
  }
  if (node_state(node) == NodeState::LeavingPool) return;
  set_node_state(node, resting_state(setup_state, !attempts_object(node).empty()), now);
}

int used_slots(const json& node) {
  auto ext = node.find("openbatch");
  if (ext == node.end() || !ext->is_object()) return 0;
  auto attempts = ext->find("attempts");
  if (attempts == ext->end() || !attempts->is_object()) return 0;
  int slots = 0;
  for (const auto& [id, a] : attempts->items()) slots += a.value("slots", 1);
  return slots;
}

bool add_attempt(json& node, const AttemptOnNode& attempt, int slots_per_node, TimePoint now) {
  json& attempts = attempts_object(node);
  if (attempts.contains(attempt.attempt_id)) return false;
  if (used_slots(node) + attempt.slots > slots_per_node) return false;
  attempts[attempt.attempt_id] = {{"jobId", attempt.job_id},
                                  {"taskId", attempt.task_id},
                                  {"slots", attempt.slots},
                                  {"taskUrl", attempt.task_url}};
  if (attempt.subtask_id >= 0) attempts[attempt.attempt_id]["subtaskId"] = attempt.subtask_id;
  update_counts(node);
  refresh_busy_state(node, now);
  json& recent = node["recentTasks"];
  if (!recent.is_array()) recent = json::array();
  recent.push_back({{"taskUrl", attempt.task_url},
                    {"jobId", attempt.job_id},
                    {"taskId", attempt.task_id},
                    {"taskState", to_string(TaskState::Running)},
                    {"executionInfo",
                     {{"startTime", format_iso8601(now)}, {"retryCount", 0}, {"requeueCount", 0}}},
                    {"openbatchAttemptId", attempt.attempt_id}});
  if (attempt.subtask_id >= 0) recent.back()["subtaskId"] = attempt.subtask_id;
  while (recent.size() > kMaxRecentTasks) recent.erase(recent.begin());
  return true;
}

bool remove_attempt(json& node, std::string_view attempt_id, std::optional<bool> succeeded,
                    std::string_view task_state, const json& execution_info, TimePoint now) {
  json& attempts = attempts_object(node);
  auto it = attempts.find(std::string(attempt_id));
  if (it == attempts.end()) return false;
  attempts.erase(it);
  update_counts(node);
  if (succeeded) {
    node["totalTasksRun"] = node.value("totalTasksRun", 0) + 1;
    if (*succeeded) node["totalTasksSucceeded"] = node.value("totalTasksSucceeded", 0) + 1;
  }
  json& recent = node["recentTasks"];
  if (recent.is_array()) {
    for (auto& entry : recent) {
      if (entry.value("openbatchAttemptId", "") != attempt_id) continue;
      entry["taskState"] = task_state;
      if (execution_info.is_object()) entry["executionInfo"] = execution_info;
    }
  }
  refresh_busy_state(node, now);
  return true;
}

std::vector<AttemptOnNode> attempts_of(const json& node) {
  std::vector<AttemptOnNode> out;
  auto ext = node.find("openbatch");
  if (ext == node.end() || !ext->is_object()) return out;
  auto attempts = ext->find("attempts");
  if (attempts == ext->end() || !attempts->is_object()) return out;
  for (const auto& [id, a] : attempts->items()) {
    out.push_back({id, a.value("jobId", ""), a.value("taskId", ""), a.value("taskUrl", ""),
                   a.value("slots", 1), a.value("subtaskId", -1)});
  }
  return out;
}

}  // namespace openbatch::domain
