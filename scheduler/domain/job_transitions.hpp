// Every job state change, as pure functions of the stored CloudJob JSON: the API's delete,
// terminate, disable and enable; the engine's end of a job whose tasks all completed
// (onAllTasksComplete = terminatejob); and the lifecycle sweep that settles a job once its
// running tasks are gone (terminating -> completed, disabling -> disabled, enabling -> active).
// Refusals are the 409s Azure returns, with the job unchanged. No I/O: `now` is passed in.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace openbatch::domain {

using nlohmann::json;

// The 409 for an operation that needs the job in another state.
Error job_state_conflict(std::optional<JobState> state);

// Tasks can be added only to a job that is not ending or being deleted (disabled is fine).
std::optional<Error> job_refuses_tasks(const json& job);

// Job - Update / Patch need a job that has not ended: the 409 otherwise.
Status job_accepts_updates(const json& job);

// -> deleting (the sweep then removes its tasks and the job). 409 JobBeingDeleted if it is.
Status delete_job(json& job, TimePoint now);

// -> terminating with executionInfo.terminateReason `reason`; the sweep completes it once its
// running tasks are stopped. 409 when completed, terminating or deleting.
Status terminate_job(json& job, std::string_view reason, TimePoint now);

// active -> disabling; `disable_tasks` (requeue, terminate, wait) tells the engine what to do
// with running tasks. 409 unless active.
Status disable_job(json& job, std::string_view disable_tasks, TimePoint now);

// disabled or disabling -> enabling. 409 JobNotDisabled otherwise.
Status enable_job(json& job, TimePoint now);

// The engine saw the last task of an active job complete: a job with onAllTasksComplete =
// terminatejob goes to terminating with terminateReason AllTasksComplete. False (job unchanged)
// for any other job.
bool end_job_when_all_tasks_complete(json& job, TimePoint now);

// The job after a lifecycle sweep, or nullopt when nothing changes. `running_tasks` counts its
// running and preparing tasks: while there are any, nothing moves.
std::optional<json> settle_job(const json& job, int64_t running_tasks, TimePoint now);

}  // namespace openbatch::domain
