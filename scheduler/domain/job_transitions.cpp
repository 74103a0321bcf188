#include "scheduler/domain/job_transitions.hpp"

#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"

namespace openbatch::domain {

Error job_state_conflict(std::optional<JobState> state) {
  if (state == JobState::Deleting)
    return errors::conflict(
        "JobBeingDeleted",
        "The specified job has been marked for deletion and is being garbage collected.");
  if (state == JobState::Terminating)
    return errors::conflict("JobBeingTerminated", "The specified job is being terminated.");
  if (state == JobState::Completed)
    return errors::conflict("JobCompleted", "The specified job is already in a completed state.");
  if (state == JobState::Disabled || state == JobState::Disabling)
    return errors::conflict("JobDisabled", "The specified job is disabled.");
  return errors::conflict("JobNotActive", "The specified job is not in the active state.");
}

std::optional<Error> job_refuses_tasks(const json& job) {
  const auto state = job_state(job);
  if (state && job_is_ending(*state)) {
    return errors::conflict("JobCompleted", "The specified job is already in a completed state.");
  }
  if (state == JobState::Deleting) return job_state_conflict(state);
  return std::nullopt;
}

Status job_accepts_updates(const json& job) {
  const auto state = job_state(job);
  if (state && (job_is_ending(*state) || *state == JobState::Deleting))
    return job_state_conflict(state);
  return {};
}

Status delete_job(json& job, TimePoint now) {
  if (job_state(job) == JobState::Deleting) return job_state_conflict(JobState::Deleting);
  move_state(job, JobState::Deleting, now);
  return {};
}

Status terminate_job(json& job, std::string_view reason, TimePoint now) {
  if (auto refused = job_accepts_updates(job); !refused) return refused;
  move_state(job, JobState::Terminating, now);
  job["executionInfo"]["terminateReason"] = reason;
  return {};
}

Status disable_job(json& job, std::string_view disable_tasks, TimePoint now) {
  const auto state = job_state(job);
  if (state != JobState::Active) return job_state_conflict(state);
  move_state(job, JobState::Disabling, now);
  job["openbatch"]["disableTasks"] = disable_tasks;
  return {};
}

Status enable_job(json& job, TimePoint now) {
  const auto state = job_state(job);
  if (state != JobState::Disabled && state != JobState::Disabling) {
    return errors::conflict("JobNotDisabled", "The specified job is not disabled.");
  }
  move_state(job, JobState::Enabling, now);
  return {};
}

bool end_job_when_all_tasks_complete(json& job, TimePoint now) {
  if (!job.is_object() || job_state(job) != JobState::Active) return false;
  if (job.value("onAllTasksComplete", "") != "terminatejob") return false;
  move_state(job, JobState::Terminating, now);
  job["executionInfo"]["terminateReason"] = "AllTasksComplete";
  return true;
}

std::optional<json> settle_job(const json& job, int64_t running_tasks, TimePoint now) {
  if (running_tasks > 0) return std::nullopt;  // wait for running tasks to be stopped
  const auto state = job_state(job);
  json next = job;
  if (state == JobState::Terminating) {
    move_state(next, JobState::Completed, now);
    next["executionInfo"]["endTime"] = format_iso8601(now);
    return next;
  }
  if (state == JobState::Disabling) {
    move_state(next, JobState::Disabled, now);
    return next;
  }
  if (state == JobState::Enabling) {
    move_state(next, JobState::Active, now);
    return next;
  }
  return std::nullopt;
}

}  // namespace openbatch::domain
