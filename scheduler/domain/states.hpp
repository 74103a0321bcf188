// The states of the stored entities as enums. The store and the wire keep Azure's lowercase
// spellings ("waitingforstarttask"); code compares and moves enums, and converts only where it
// reads or writes JSON: to_string() for the spelling, parse_*() for a spelling read back
// (nullopt for anything else). Plain values: no I/O, thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace openbatch::domain {

// CloudTask.state (and a multi-instance subtask's state).
enum class TaskState { Active, Preparing, Running, Completed };

// ComputeNode.state: Azure's ComputeNodeState set (batch-api.md section 3).
enum class NodeState {
  Idle,
  Rebooting,
  Reimaging,
  Running,
  Unusable,
  Creating,
  Starting,
  WaitingForStartTask,
  StartTaskFailed,
  Unknown,
  LeavingPool,
  Offline,
  Preempted,
  UpgradingOs,
  Deallocated,
  Deallocating,
};

// CloudJob.state.
enum class JobState { Active, Disabling, Disabled, Enabling, Terminating, Completed, Deleting };

// CloudPool.state.
enum class PoolState { Active, Deleting };

// CloudPool.allocationState.
enum class AllocationState { Steady, Resizing, Stopping };

std::string_view to_string(TaskState state);
std::string_view to_string(NodeState state);
std::string_view to_string(JobState state);
std::string_view to_string(PoolState state);
std::string_view to_string(AllocationState state);

std::optional<TaskState> parse_task_state(std::string_view text);
std::optional<NodeState> parse_node_state(std::string_view text);
std::optional<JobState> parse_job_state(std::string_view text);
std::optional<PoolState> parse_pool_state(std::string_view text);
std::optional<AllocationState> parse_allocation_state(std::string_view text);

// Up and taking work: idle or running.
constexpr bool node_is_up(NodeState state) {
  return state == NodeState::Idle || state == NodeState::Running;
}

// A job that has ended or is ending: it takes no new tasks, no reactivation, no update.
constexpr bool job_is_ending(JobState state) {
  return state == JobState::Completed || state == JobState::Terminating;
}

}  // namespace openbatch::domain
