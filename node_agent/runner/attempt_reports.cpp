// Completed reports and failure infos (see attempt_reports.hpp).
#include "node_agent/runner/attempt_reports.hpp"

#include "node_agent/exec/launcher.hpp"

namespace openbatch::agent::runner {

using protocol::ErrorCategory;
using protocol::FailureInfo;

FailureInfo cancel_failure(protocol::CancelReason reason) {
  switch (reason) {
    case protocol::CancelReason::Requeued:
    case protocol::CancelReason::UnknownAttempt:
      return {ErrorCategory::ServerError, "TaskRequeued",
              "The task was stopped on this node because the scheduler requeued it"};
    case protocol::CancelReason::NodeRemoved:
      return {ErrorCategory::ServerError, "NodeRemoved",
              "The task was stopped because its node is leaving the pool"};
    case protocol::CancelReason::TaskCompleted:
      return {ErrorCategory::ServerError, "MultiInstanceTaskEnded",
              "The instance was stopped because its multi-instance task ended"};
    default:
      return {ErrorCategory::UserError, "TaskEnded", "Task Was Ended by User Request"};
  }
}

protocol::Report completed_report(const std::string& attempt_id, int exit_code,
                                  const std::string& start_time, const std::string& end_time,
                                  KillReason killed, std::string_view wall_clock_text,
                                  std::optional<protocol::CancelReason> cancel_reason) {
  protocol::Report r;
  r.attempt_id = attempt_id;
  r.state = protocol::AttemptState::Completed;
  r.exit_code = exit_code;
  r.start_time = start_time;
  r.end_time = end_time;
  if (killed == KillReason::WallClock) {
    r.failure_info = FailureInfo{ErrorCategory::UserError, "MaxWallClockTimeExpiry",
                                 "The task ran longer than its maxWallClockTime constraint (" +
                                     std::string(wall_clock_text) + ") and was terminated"};
  } else if (killed == KillReason::Cancel && cancel_reason) {
    r.failure_info = cancel_failure(*cancel_reason);
  } else if (exit_code != 0) {
    r.failure_info = FailureInfo{ErrorCategory::UserError, "FailureExitCode",
                                 "The task exited with an exit code representing a failure"};
  }
  r.result = r.failure_info ? protocol::TaskResult::Failure : protocol::TaskResult::Success;
  return r;
}

FailureInfo output_limit_failure(std::string_view file, std::uint64_t cap_bytes) {
  return FailureInfo{
      ErrorCategory::UserError, std::string(kOutputLimitExceeded),
      "The task's " + std::string(file) + " grew beyond this node's output cap of " +
          std::to_string(cap_bytes) +
          " bytes, so the task was stopped. Write large results to files in the task's "
          "working directory instead, or raise the cap with the node agent's "
          "--max-task-output option"};
}

std::string launch_failure_code(const Error& error) {
  if (error.code == exec::kProgramNotFound) return "CommandProgramNotFound";
  if (error.code == exec::kLaunchFailed) return "CommandLaunchFailed";
  return error.code.empty() ? std::string("TaskPreparationFailed") : error.code;
}

protocol::Report failed_to_start_report(const std::string& attempt_id, const Error& error,
                                        const std::optional<std::string>& start_time,
                                        const std::string& end_time) {
  protocol::Report r;
  r.attempt_id = attempt_id;
  r.state = protocol::AttemptState::Completed;
  r.start_time = start_time;
  r.end_time = end_time;
  std::string message = error.message;
  if (const std::string reason = error.detail("Reason"); !reason.empty()) {
    message += " " + reason;
  }
  r.failure_info = FailureInfo{ErrorCategory::UserError, launch_failure_code(error), message};
  r.result = protocol::TaskResult::Failure;
  return r;
}

protocol::Report cancelled_before_start_report(const std::string& attempt_id,
                                               protocol::CancelReason reason,
                                               const std::string& end_time) {
  protocol::Report r;
  r.attempt_id = attempt_id;
  r.state = protocol::AttemptState::Completed;
  r.end_time = end_time;
  r.failure_info = cancel_failure(reason);
  r.result = protocol::TaskResult::Failure;
  return r;
}

}  // namespace openbatch::agent::runner
