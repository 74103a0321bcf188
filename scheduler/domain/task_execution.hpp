// Every task state change, as pure functions of the stored CloudTask JSON: dispatch to a node
// (active -> running), apply an agent's completion report (running -> completed, or back to
// active for a retry), requeue (running -> active after a node loss), terminate (-> completed
// by request) and reactivate (completed -> active); plus the assignment an agent receives. No
// I/O, no clock: `now` is passed in. The engine applies them inside the store transaction that
// also re-checks the node's capacity; the API routes inside their update transaction.
// Multi-instance subtasks move in gang_execution.hpp.
//
// Attempt ids: "{jobId}:{taskId}:{taskSeq}:{dispatch}" -- the task record's seq (never reused,
// even after a delete and re-add of the same id) and the task's own dispatch counter
// (openbatch.dispatches), so no attempt id is ever issued twice, including after reactivate.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::domain {

using nlohmann::json;

struct DispatchTarget {
  std::string pool_id;
  std::string node_id;
  std::string node_url;  // <account url>/pools/<pool>/nodes/<node>
};

// The attempt the task's next dispatch gets.
std::string next_attempt_id(const json& task, std::string_view job_id, int64_t task_seq);

// The attempt the task is running now ("" when none).
std::string current_attempt_id(const json& task);

// active -> running on `target` as `attempt_id`; executionInfo.startTime = now, nodeInfo set.
json dispatch_task(json task, std::string_view job_id, const DispatchTarget& target,
                   const std::string& attempt_id, TimePoint now);

enum class CompletionOutcome { Completed, Retried };

// Applies a completed report to the running task. A failure caused by the exit code (code
// FailureExitCode) is retried while retries remain (maxTaskRetryCount; -1 = unlimited): the
// task goes back to active with retryCount + 1. Anything else completes it.
json complete_task(json task, const protocol::Report& report, TimePoint now,
                   CompletionOutcome& outcome);

// running -> active after its node was lost or left: requeueCount + 1 (counts against nothing).
json requeue_task(json task, TimePoint now);

// Ends the task by request (Task - Terminate): -> completed with result failure and
// failureInfo TaskEnded; a running attempt is killed by its node. 409 TaskCompleted (task
// unchanged) when it already is completed.
Status terminate_task(json& task, TimePoint now);

// completed (failed) -> active again (Task - Reactivate): retryCount back to 0, requeueCount
// kept, the attempt's outcome and nodeInfo gone. 409 JobCompleted when the job has ended or is
// ending, TaskNotCompleted, or TaskSucceeded (a task that did not fail); task unchanged then.
Status reactivate_task(json& task, JobState job_state, TimePoint now);

// What the agent needs to run the attempt. `job_environment` is the job's
// commonEnvironmentSettings (an array, possibly empty).
protocol::Assignment make_assignment(const json& task, std::string_view job_id,
                                     const json& job_environment, const std::string& attempt_id);

// "workitems/{job}/job-1/{task}": nodeInfo.taskRootDirectory, relative to the node root.
std::string task_root_directory(std::string_view job_id, std::string_view task_id);

}  // namespace openbatch::domain
