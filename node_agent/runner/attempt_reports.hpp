// The reports an attempt ends with, and the failureInfo codes they carry (Azure's words where
// Azure has one). Pure.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::agent::runner {

// Why the agent stopped a process itself.
enum class KillReason { None, WallClock, Cancel, Shutdown };

// The completed report of a process that ran: exit code (128 + signal for a signal), success
// for 0 unless the agent killed it, else failureInfo FailureExitCode, or MaxWallClockTimeExpiry
// / the cancel's code when the agent killed it.
protocol::Report completed_report(const std::string& attempt_id, int exit_code,
                                  const std::string& start_time, const std::string& end_time,
                                  KillReason killed, std::string_view wall_clock_text,
                                  std::optional<protocol::CancelReason> cancel_reason);

// The failureInfo of a task whose stdout.txt or stderr.txt outgrew the node's output cap (its
// shim stopped it): usererror, naming the file, the cap and the agent option that sets it.
inline constexpr std::string_view kOutputLimitExceeded = "TaskOutputLimitExceeded";
protocol::FailureInfo output_limit_failure(std::string_view file, std::uint64_t cap_bytes);

// The completed report of an attempt that never ran: no exit code, result failure, and the
// failure from `error` (its code and message; usererror).
protocol::Report failed_to_start_report(const std::string& attempt_id, const Error& error,
                                        const std::optional<std::string>& start_time,
                                        const std::string& end_time);

// The completed report of an attempt cancelled before its process started.
protocol::Report cancelled_before_start_report(const std::string& attempt_id,
                                               protocol::CancelReason reason,
                                               const std::string& end_time);

// failureInfo for a cancel: TaskEnded (usererror) for client requests, TaskRequeued /
// NodeRemoved (servererror) when the scheduler moved the task.
protocol::FailureInfo cancel_failure(protocol::CancelReason reason);

// The failureInfo code for a launch Error from the exec module (ProgramNotFound ->
// CommandProgramNotFound, ...); other errors keep their own code.
std::string launch_failure_code(const Error& error);

}  // namespace openbatch::agent::runner
