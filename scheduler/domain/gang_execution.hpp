// Multi-instance (gang) task transitions as pure functions of the stored CloudTask JSON
// (batch-api.md section 11). The task's own fields describe the primary (instance 0); the
// other instances live in the task's extension:
//   openbatch.subtasks  Azure SubtaskInformation[] for instances 1..N-1 (what subtasksinfo
//                       returns): id, nodeInfo, startTime, state preparing -> running ->
//                       completed, endTime, exitCode, result, failureInfo
//   openbatch.gang      {"attempts": [attempt id per instance], "coordinated": [bool...]}
// The primary's attempt id is the task's attempt id ("{job}:{task}:{seq}:{n}"); instance k > 0
// runs as "<that>:s<k>". A new dispatch replaces both lists; a retry or requeue keeps them, so
// the last attempt's subtasks stay readable and late reports of its instances still land.
// No I/O, no clock. Thread-safe: pure.
#pragma once

#include "common/clock.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/domain/task_execution.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::domain {

// The attempt id of instance `subtask_id` of the gang whose primary runs as `primary`.
std::string instance_attempt_id(std::string_view primary, int subtask_id);

// Instance k of a gang attempt id: {primary attempt id, k}; nullopt for an id that is not an
// instance of a gang (instance 0 is indistinguishable from a plain attempt: callers know).
struct InstanceRef {
  std::string primary;
  int subtask_id = 0;
};
std::optional<InstanceRef> parse_instance_attempt_id(std::string_view attempt_id);

// After dispatch_task() moved the task to running on targets[0]: writes openbatch.subtasks
// (instances 1..N-1, "preparing", on targets[1..]) and openbatch.gang.
json dispatch_gang(json task, std::string_view job_id, const std::vector<DispatchTarget>& targets,
                   const std::vector<std::string>& attempt_ids, TimePoint now);

// Instance `attempt_id` ran its coordination command to exit 0: coordinated[k] = true and
// subtask k preparing -> running. False (task unchanged) when the attempt is not in the gang
// or was already coordinated.
bool mark_coordinated(json& task, std::string_view attempt_id, TimePoint now);

// Whether every instance of the gang is coordinated.
bool all_coordinated(const json& task);

// Instance `attempt_id` (k > 0) completed: its subtask entry takes the report's outcome.
// False when the attempt is not a subtask of the task's last gang.
bool complete_subtask(json& task, std::string_view attempt_id, const protocol::Report& report,
                      TimePoint now);

// The instance of the task's last gang that `attempt_id` is (0 = primary); nullopt if none.
std::optional<int> gang_instance_of(const json& task, std::string_view attempt_id);

// A subtask that ends while its task still runs fails the whole task (section 11): the report
// to apply to the task as if the primary had ended so. The subtask's failureInfo code is kept
// (an exit-code failure is retried as a unit); a subtask that ended without one gets
// "SubtaskEnded". The message names the subtask and its node.
protocol::Report gang_failure_report(const protocol::Report& subtask, int subtask_id,
                                     std::string_view node_id);

}  // namespace openbatch::domain
