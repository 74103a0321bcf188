#include "scheduler/domain/task_execution.hpp"

#include "common/protocol/environment_settings.hpp"
#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"

namespace openbatch::domain {
namespace {

json& execution_info(json& task) {
  json& info = task["executionInfo"];
  if (!info.is_object()) info = json::object();
  if (!info.contains("retryCount")) info["retryCount"] = 0;
  if (!info.contains("requeueCount")) info["requeueCount"] = 0;
  return info;
}

json& extension(json& task) {
  json& ext = task["openbatch"];
  if (!ext.is_object()) ext = json::object();
  return ext;
}

// Back to active: the attempt's outcome fields go (Azure sets them only when completed).
void reactivate_for_next_attempt(json& task, TimePoint now) {
  move_state(task, TaskState::Active, now);
  json& info = execution_info(task);
  for (const char* field : {"endTime", "exitCode", "failureInfo", "result"}) info.erase(field);
  task.erase("nodeInfo");
  extension(task).erase("attemptId");
}

int64_t int_or(const json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

}  // namespace

std::string task_root_directory(std::string_view job_id, std::string_view task_id) {
  std::string out = "workitems/";
  out += job_id;
  out += "/job-1/";
  out += task_id;
  return out;
}

std::string next_attempt_id(const json& task, std::string_view job_id, int64_t task_seq) {
  int64_t dispatches = 0;
  if (auto ext = task.find("openbatch"); ext != task.end() && ext->is_object()) {
    dispatches = int_or(*ext, "dispatches", 0);
  }
  std::string id(job_id);
  id += ':';
  id += task.value("id", "");
  id += ':';
  id += std::to_string(task_seq);
  id += ':';
  id += std::to_string(dispatches + 1);
  return id;
}

std::string current_attempt_id(const json& task) {
  auto ext = task.find("openbatch");
  if (ext == task.end() || !ext->is_object()) return {};
  auto it = ext->find("attemptId");
  return it != ext->end() && it->is_string() ? it->get<std::string>() : std::string();
}

json dispatch_task(json task, std::string_view job_id, const DispatchTarget& target,
                   const std::string& attempt_id, TimePoint now) {
  move_state(task, TaskState::Running, now);
  json& info = execution_info(task);
  info["startTime"] = format_iso8601(now);
  for (const char* field : {"endTime", "exitCode", "failureInfo", "result"}) info.erase(field);
  const std::string root = task_root_directory(job_id, task.value("id", ""));
  task["nodeInfo"] = {{"affinityId", "TVM:" + target.node_id},
                      {"nodeUrl", target.node_url},
                      {"poolId", target.pool_id},
                      {"nodeId", target.node_id},
                      {"taskRootDirectory", root},
                      {"taskRootDirectoryUrl", target.node_url + "/files/" + root}};
  json& ext = extension(task);
  ext["attemptId"] = attempt_id;
  ext["dispatches"] = int_or(ext, "dispatches", 0) + 1;
  ext.erase("pendingReason");  // it runs: whatever held it back no longer does
  return task;
}

json complete_task(json task, const protocol::Report& report, TimePoint now,
                   CompletionOutcome& outcome) {
  json& info = execution_info(task);
  const bool exit_failure = report.result == protocol::TaskResult::Failure && report.failure_info &&
                            report.failure_info->code == "FailureExitCode";
  const int64_t max_retries =
      task.contains("constraints") ? int_or(task["constraints"], "maxTaskRetryCount", 0) : 0;
  const int64_t retries = int_or(info, "retryCount", 0);
  if (exit_failure && (max_retries == -1 || retries < max_retries)) {
    outcome = CompletionOutcome::Retried;
    reactivate_for_next_attempt(task, now);
    json& again = execution_info(task);
    again["retryCount"] = retries + 1;
    again["lastRetryTime"] = format_iso8601(now);
    return task;
  }
  outcome = CompletionOutcome::Completed;
  move_state(task, TaskState::Completed, now);
  protocol::put_completion(info, report);
  if (!report.end_time) info["endTime"] = format_iso8601(now);
  extension(task).erase("attemptId");
  return task;
}

json requeue_task(json task, TimePoint now) {
  const int64_t requeues = int_or(execution_info(task), "requeueCount", 0);
  reactivate_for_next_attempt(task, now);
  json& info = execution_info(task);
  info["requeueCount"] = requeues + 1;
  info["lastRequeueTime"] = format_iso8601(now);
  return task;
}

Status terminate_task(json& task, TimePoint now) {
  if (task_state(task) == TaskState::Completed) {
    return errors::conflict("TaskCompleted", "The specified task is already completed.");
  }
  move_state(task, TaskState::Completed, now);
  json& info = task["executionInfo"];
  info["endTime"] = format_iso8601(now);
  info["result"] = "failure";
  info["failureInfo"] = {{"category", "usererror"},
                         {"code", "TaskEnded"},
                         {"message", "Task Was Ended by User Request"}};
  return {};
}

Status reactivate_task(json& task, JobState job_state, TimePoint now) {
  if (job_is_ending(job_state)) {
    return errors::conflict("JobCompleted", "The specified job is already in a completed state.");
  }
  if (task_state(task) != TaskState::Completed) {
    return errors::conflict("TaskNotCompleted", "The specified task is not completed.");
  }
  if (task["executionInfo"].value("result", "") != "failure") {
    return errors::conflict("TaskSucceeded",
                            "The specified task completed successfully and cannot be reactivated.");
  }
  move_state(task, TaskState::Active, now);
  task["executionInfo"] = {{"retryCount", 0},
                           {"requeueCount", task["executionInfo"].value("requeueCount", 0)}};
  task.erase("nodeInfo");
  return {};
}

protocol::Assignment make_assignment(const json& task, std::string_view job_id,
                                     const json& job_environment, const std::string& attempt_id) {
  protocol::Assignment a;
  a.attempt_id = attempt_id;
  a.job_id = std::string(job_id);
  a.task_id = task.value("id", "");
  if (auto info = task.find("executionInfo"); info != task.end() && info->is_object()) {
    a.retry_count = int_or(*info, "retryCount", 0);
    a.requeue_count = int_or(*info, "requeueCount", 0);
  }
  a.command_line = task.value("commandLine", "");
  if (auto env = task.find("environmentSettings"); env != task.end())
    protocol::append_environment_settings(*env, a.environment);
  protocol::append_environment_settings(job_environment, a.job_environment);
  if (auto identity = task.find("userIdentity"); identity != task.end() && identity->is_object()) {
    a.user_identity = *identity;
  }
  if (auto files = task.find("resourceFiles"); files != task.end() && files->is_array())
    a.resource_files = *files;
  if (auto c = task.find("constraints"); c != task.end() && c->is_object()) {
    if (auto w = c->find("maxWallClockTime"); w != c->end() && w->is_string())
      a.constraints.max_wall_clock_time = *w;
    if (auto r = c->find("retentionTime"); r != c->end() && r->is_string())
      a.constraints.retention_time = *r;
    a.constraints.max_task_retry_count = int_or(*c, "maxTaskRetryCount", 0);
  }
  a.required_slots = static_cast<int>(int_or(task, "requiredSlots", 1));
  return a;
}

}  // namespace openbatch::domain
