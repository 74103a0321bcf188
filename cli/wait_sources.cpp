// Poll sources for job/task waits (see wait_sources.hpp).
#include "cli/wait_sources.hpp"

#include "cli/json_fields.hpp"
#include "common/text/ascii.hpp"

#include <algorithm>

namespace openbatch::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kTaskSelect = "id,state,executionInfo";

bool is_done(TaskPhase p) { return p == TaskPhase::Succeeded || p == TaskPhase::Failed; }

Result<std::string> job_state_reason(Api& api, const std::string& job) {
  auto j = api.get_json(with_query(path_of({"jobs", job}), "$select", "id,state,executionInfo"));
  if (!j) return j.error();
  return job_finish_reason(*j);
}

}  // namespace

TaskCounts counts_from_taskcounts(const json& reply) {
  TaskCounts c;
  c.active = int_at(reply, "taskCounts/active");
  c.running = int_at(reply, "taskCounts/running");
  c.completed = int_at(reply, "taskCounts/completed");
  c.failed = int_at(reply, "taskCounts/failed");
  return c;
}

TaskPhase task_phase(const json& task) {
  const std::string state = text::to_lower(text_at(task, "state"));
  if (state == "completed") {
    return text::to_lower(text_at(task, "executionInfo/result")) == "failure"
               ? TaskPhase::Failed
               : TaskPhase::Succeeded;
  }
  if (state == "running" || state == "preparing") return TaskPhase::Running;
  return TaskPhase::Active;
}

void tally(TaskPhase phase, TaskCounts& counts) {
  switch (phase) {
    case TaskPhase::Active:
      ++counts.active;
      break;
    case TaskPhase::Running:
      ++counts.running;
      break;
    case TaskPhase::Succeeded:
      ++counts.completed;
      break;
    case TaskPhase::Failed:
      ++counts.completed;
      ++counts.failed;
      break;
  }
}

std::string job_finish_reason(const json& job) {
  if (text::to_lower(text_at(job, "state")) != "completed") return {};
  const std::string why = text_at(job, "executionInfo/terminateReason");
  return why.empty() ? "job completed" : "job completed (" + why + ")";
}

Result<WaitState> JobWaitSource::poll() {
  auto counts = api_.get_json(path_of({"jobs", job_, "taskcounts"}));
  if (!counts) return counts.error();
  auto reason = job_state_reason(api_, job_);
  if (!reason) return reason.error();
  return WaitState{counts_from_taskcounts(*counts), !reason->empty(), *reason};
}

Result<std::vector<std::string>> JobWaitSource::failed_ids(std::size_t limit) {
  std::string target = path_of({"jobs", job_, "tasks"});
  target = with_query(target, "$filter", "executionInfo/result eq 'failure'");
  target = with_query(target, "$select", "id");
  target = with_query(target, "maxresults", std::to_string(limit));
  auto page = api_.get_json(target);
  if (!page) return page.error();
  std::vector<std::string> ids;
  if (const json* value = find_path(*page, "value"); value != nullptr && value->is_array()) {
    for (const auto& t : *value) ids.push_back(text_at(t, "id"));
  }
  return ids;
}

TaskSetWaitSource::TaskSetWaitSource(Api& api, std::string job_id,
                                     const std::vector<std::string>& task_ids)
    : api_(api), job_(std::move(job_id)) {
  for (const auto& id : task_ids) {
    if (phases_.emplace(text::to_lower(id), TaskPhase::Active).second) ids_.push_back(id);
  }
}

Result<void> TaskSetWaitSource::poll_each() {
  for (const auto& id : ids_) {
    TaskPhase& phase = phases_[text::to_lower(id)];
    if (is_done(phase)) continue;
    auto task =
        api_.get_json(with_query(path_of({"jobs", job_, "tasks", id}), "$select", kTaskSelect));
    if (!task) return task.error();
    phase = task_phase(*task);
  }
  return {};
}

Result<void> TaskSetWaitSource::poll_list() {
  auto tasks = api_.list(with_query(path_of({"jobs", job_, "tasks"}), "$select", kTaskSelect));
  if (!tasks) return tasks.error();
  std::unordered_map<std::string, TaskPhase> seen;
  for (const auto& t : *tasks) {
    std::string id = text::to_lower(text_at(t, "id"));
    if (phases_.contains(id)) seen[std::move(id)] = task_phase(t);
  }
  for (const auto& id : ids_) {
    auto it = seen.find(text::to_lower(id));
    if (it == seen.end()) {
      return Error(404, "TaskNotFound", "task " + id + " is not in job " + job_);
    }
    phases_[it->first] = it->second;
  }
  return {};
}

Result<WaitState> TaskSetWaitSource::poll() {
  const auto incomplete = static_cast<std::size_t>(std::count_if(
      phases_.begin(), phases_.end(), [](const auto& p) { return !is_done(p.second); }));
  auto polled = incomplete <= kPerTaskPollLimit ? poll_each() : poll_list();
  if (!polled) return polled.error();
  WaitState state;
  for (const auto& [id, phase] : phases_) tally(phase, state.counts);
  if (state.counts.remaining() > 0) {
    auto reason = job_state_reason(api_, job_);
    if (!reason) return reason.error();
    state.finished = !reason->empty();
    state.reason = *reason;
  }
  return state;
}

std::vector<std::string> TaskSetWaitSource::failed_ids() const {
  std::vector<std::string> out;
  for (const auto& id : ids_) {
    if (phases_.at(text::to_lower(id)) == TaskPhase::Failed) out.push_back(id);
  }
  return out;
}

}  // namespace openbatch::cli
