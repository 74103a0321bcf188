#include "scheduler/domain/gang_execution.hpp"

#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"

#include <charconv>

namespace openbatch::domain {
namespace {

constexpr std::string_view kInstanceMark = ":s";

json* gang_of(json& task) {
  auto ext = task.find("openbatch");
  if (ext == task.end() || !ext->is_object()) return nullptr;
  auto gang = ext->find("gang");
  return gang != ext->end() && gang->is_object() ? &*gang : nullptr;
}

const json* gang_of(const json& task) { return gang_of(const_cast<json&>(task)); }

json* subtask_entry(json& task, int subtask_id) {
  auto ext = task.find("openbatch");
  if (ext == task.end() || !ext->is_object()) return nullptr;
  auto list = ext->find("subtasks");
  if (list == ext->end() || !list->is_array()) return nullptr;
  for (auto& entry : *list) {
    if (entry.is_object() && entry.value("id", -1) == subtask_id) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string instance_attempt_id(std::string_view primary, int subtask_id) {
  if (subtask_id == 0) return std::string(primary);
  std::string id(primary);
  id += kInstanceMark;
  id += std::to_string(subtask_id);
  return id;
}

std::optional<InstanceRef> parse_instance_attempt_id(std::string_view attempt_id) {
  const auto mark = attempt_id.rfind(kInstanceMark);
  if (mark == std::string_view::npos) return std::nullopt;
  const std::string_view digits = attempt_id.substr(mark + kInstanceMark.size());
  int k = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  if (ec != std::errc() || end != digits.data() + digits.size() || k <= 0) return std::nullopt;
  return InstanceRef{std::string(attempt_id.substr(0, mark)), k};
}

json dispatch_gang(json task, std::string_view job_id, const std::vector<DispatchTarget>& targets,
                   const std::vector<std::string>& attempt_ids, TimePoint now) {
  const std::string t = format_iso8601(now);
  const std::string root = task_root_directory(job_id, task.value("id", ""));
  json subtasks = json::array();
  for (std::size_t k = 1; k < targets.size(); ++k) {
    const DispatchTarget& target = targets[k];
    const std::string dir = root + "/" + std::to_string(k);
    subtasks.push_back({{"id", static_cast<int>(k)},
                        {"nodeInfo",
                         {{"affinityId", "TVM:" + target.node_id},
                          {"nodeUrl", target.node_url},
                          {"poolId", target.pool_id},
                          {"nodeId", target.node_id},
                          {"taskRootDirectory", dir},
                          {"taskRootDirectoryUrl", target.node_url + "/files/" + dir}}},
                        {"startTime", t},
                        {"state", to_string(TaskState::Preparing)},
                        {"stateTransitionTime", t}});
  }
  json& ext = task["openbatch"];
  if (!ext.is_object()) ext = json::object();
  ext["subtasks"] = std::move(subtasks);
  ext["gang"] = {{"attempts", attempt_ids},
                 {"coordinated", std::vector<bool>(attempt_ids.size(), false)}};
  return task;
}

std::optional<int> gang_instance_of(const json& task, std::string_view attempt_id) {
  const json* gang = gang_of(task);
  if (gang == nullptr) return std::nullopt;
  auto attempts = gang->find("attempts");
  if (attempts == gang->end() || !attempts->is_array()) return std::nullopt;
  for (std::size_t k = 0; k < attempts->size(); ++k) {
    const json& id = (*attempts)[k];
    if (id.is_string() && id.get_ref<const std::string&>() == attempt_id)
      return static_cast<int>(k);
  }
  return std::nullopt;
}

bool mark_coordinated(json& task, std::string_view attempt_id, TimePoint now) {
  auto k = gang_instance_of(task, attempt_id);
  if (!k) return false;
  json& coordinated = (*gang_of(task))["coordinated"];
  if (!coordinated.is_array()) coordinated = json::array();
  while (coordinated.size() <= static_cast<std::size_t>(*k)) coordinated.push_back(false);
  if (coordinated[*k] == true) return false;
  coordinated[*k] = true;
  if (json* subtask = subtask_entry(task, *k)) {
    move_state(*subtask, TaskState::Running, now);
  }
  return true;
}

bool all_coordinated(const json& task) {
  const json* gang = gang_of(task);
  if (gang == nullptr) return false;
  auto attempts = gang->find("attempts");
  auto coordinated = gang->find("coordinated");
  if (attempts == gang->end() || coordinated == gang->end() || !coordinated->is_array())
    return false;
  if (coordinated->size() < attempts->size()) return false;
  for (const auto& c : *coordinated) {
    if (c != true) return false;
  }
  return true;
}

bool complete_subtask(json& task, std::string_view attempt_id, const protocol::Report& report,
                      TimePoint now) {
  auto k = gang_instance_of(task, attempt_id);
  if (!k || *k == 0) return false;
  json* subtask = subtask_entry(task, *k);
  if (subtask == nullptr || task_state(*subtask) == TaskState::Completed) return false;
  const std::string t = format_iso8601(now);
  move_state(*subtask, TaskState::Completed, now);
  protocol::put_completion(*subtask, report);
  if (!report.end_time) (*subtask)["endTime"] = t;
  return true;
}

protocol::Report gang_failure_report(const protocol::Report& subtask, int subtask_id,
                                     std::string_view node_id) {
  protocol::Report out = subtask;
  out.state = protocol::AttemptState::Completed;
  out.result = protocol::TaskResult::Failure;
  out.coordinated = false;
  const std::string who =
      "Subtask " + std::to_string(subtask_id) + " on node " + std::string(node_id);
  if (subtask.failure_info && subtask.result == protocol::TaskResult::Failure) {
    out.failure_info = *subtask.failure_info;
    out.failure_info->message = who + " failed: " + subtask.failure_info->message;
  } else {
    out.failure_info = protocol::FailureInfo{protocol::ErrorCategory::ServerError, "SubtaskEnded",
                                             who + " ended before the primary task finished."};
  }
  return out;
}

}  // namespace openbatch::domain
