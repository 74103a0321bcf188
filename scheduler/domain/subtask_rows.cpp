#include "scheduler/domain/subtask_rows.hpp"

#include "common/time.hpp"

namespace openbatch::domain {
namespace {

bool is_of(const json& row, std::string_view attempt_id) {
  auto id = row.find("attemptId");
  return row.is_object() && id != row.end() && id->is_string() &&
         id->get_ref<const std::string&>() == attempt_id;
}

json* subtask_of(json& row) {
  auto it = row.find("subtask");
  return it != row.end() && it->is_object() ? &*it : nullptr;
}

void move_subtask(json& subtask, const char* to, const std::string& when) {
  if (subtask.value("state", "") == to) return;
  if (subtask.contains("state")) {
    subtask["previousState"] = subtask["state"];
    subtask["previousStateTransitionTime"] = subtask.value("stateTransitionTime", when);
  }
  subtask["state"] = to;
  subtask["stateTransitionTime"] = when;
}

}  // namespace

std::vector<SubtaskRow> gang_rows(std::string_view job_id, std::string_view task_id,
                                  const std::vector<DispatchTarget>& targets,
                                  const std::vector<std::string>& attempt_ids, TimePoint now) {
  const std::string t = format_iso8601(now);
  const std::string root = task_root_directory(job_id, task_id);
  std::vector<SubtaskRow> rows;
  rows.reserve(targets.size());
  for (std::size_t k = 0; k < targets.size() && k < attempt_ids.size(); ++k) {
    json body = {{"attemptId", attempt_ids[k]}, {"coordinated", false}};
    if (k > 0) {
      const DispatchTarget& target = targets[k];
      const std::string dir = root + "/" + std::to_string(k);
      body["subtask"] = {{"id", static_cast<int>(k)},
                         {"nodeInfo",
                          {{"affinityId", "TVM:" + target.node_id},
                           {"nodeUrl", target.node_url},
                           {"poolId", target.pool_id},
                           {"nodeId", target.node_id},
                           {"taskRootDirectory", dir},
                           {"taskRootDirectoryUrl", target.node_url + "/files/" + dir}}},
                         {"startTime", t},
                         {"state", "preparing"},
                         {"stateTransitionTime", t}};
    }
    rows.push_back({static_cast<int>(k), "preparing", std::move(body)});
  }
  return rows;
}

bool mark_row_coordinated(json& row, std::string_view attempt_id, TimePoint now) {
  if (!is_of(row, attempt_id) || row.value("coordinated", false)) return false;
  row["coordinated"] = true;
  if (json* subtask = subtask_of(row)) move_subtask(*subtask, "running", format_iso8601(now));
  return true;
}

bool row_coordinated(const json& row, std::string_view attempt_id) {
  return is_of(row, attempt_id) && row.value("coordinated", false);
}

bool complete_row(json& row, std::string_view attempt_id, const protocol::Report& report,
                  TimePoint now) {
  if (!is_of(row, attempt_id)) return false;
  json* subtask = subtask_of(row);
  if (subtask == nullptr || subtask->value("state", "") == "completed") return false;
  const std::string t = format_iso8601(now);
  move_subtask(*subtask, "completed", t);
  protocol::put_completion(*subtask, report);
  if (!report.end_time) (*subtask)["endTime"] = t;
  return true;
}

std::string row_state(const json& row) {
  auto it = row.find("subtask");
  if (it != row.end() && it->is_object()) return it->value("state", "preparing");
  return row.value("coordinated", false) ? "running" : "preparing";
}

const json* subtask_info_of(const json& row) {
  auto it = row.find("subtask");
  return it != row.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace openbatch::domain
