// The stored ComputeNode JSON as pure functions: a new node, every move of its state, and the
// attempts it runs. The node record is the durable source of truth for a node's capacity: every
// attempt dispatched to it is listed under openbatch.attempts (attempt id -> {jobId, taskId,
// slots}), added in the same transaction that moves the task to running and removed in the one that
// applies its completion or requeue. runningTasksCount / runningTaskSlotsCount follow the
// list; idle <-> running follow it too. No I/O, no clock.
#pragma once

#include "common/clock.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::domain {

using nlohmann::json;

struct NewNode {
  std::string id;
  std::string pool_id;
  std::string url;  // <account url>/pools/<pool>/nodes/<id>
  std::string vm_size;
  std::string ip_address;  // what peers and MPI use
  std::string hostname;
  std::string provisioner;  // "local" | "static"
  json image_reference = json::object();
  std::string state{to_string(NodeState::Creating)};  // the wire spelling
};

json make_node(const NewNode& spec, TimePoint now);

// Up and taking work: idle or running (the wire spelling; see states.hpp for the enum).
inline bool node_is_up(std::string_view state) {
  const auto parsed = parse_node_state(state);
  return parsed && node_is_up(*parsed);
}

// Moves `state` (no-op when already there), with stateTransitionTime. A ComputeNode has no
// previousState on the wire, so none is kept.
void set_node_state(json& node, NodeState state, TimePoint now);
void set_node_state(json& node, std::string_view state, TimePoint now);

// The engine's write of a node state it decided (lost contact: unknown; silent too long:
// offline; back in touch: its resting state). A node that is leavingpool keeps that state
// (false, node unchanged); idle and running follow the node's durable attempt list, not the
// caller's view of it. True when the node was written (its state may be unchanged).
bool settle_node_state(json& node, NodeState requested, TimePoint now);

// Pool - Remove Nodes: -> leavingpool, keeping the previous state as the API always has, and
// the deallocation option (requeue, terminate, taskcompletion, retaineddata) for the engine.
void leave_pool(json& node, std::string_view deallocation_option, TimePoint now);

// idle/running from the attempt list, for a node that is up (idle or running); other states
// are left alone.
void refresh_busy_state(json& node, TimePoint now);

// The state a node shows while its link is healthy: its setup state when that is not "ready"
// (starting, waitingforstarttask, starttaskfailed, unusable), else idle/running from its
// attempts. "" (no status yet) counts as ready, so nodes from before setups existed keep working.
std::string resting_state(std::string_view setup_state, bool has_attempts);

// Applies an agent's nodeStatus to the node record: state (see resting_state), startTaskInfo,
// errors (removed when empty, as Azure omits them), the pool's startTask as the node got it,
// and openbatch.setupState / setupGeneration. A node that is leavingpool keeps that state.
void apply_node_status(json& node, std::string_view setup_state, const json& start_task_info,
                       const json& errors, const json& start_task, std::uint64_t generation,
                       TimePoint now);

struct AttemptOnNode {
  std::string attempt_id;
  std::string job_id;
  std::string task_id;
  std::string task_url;
  int slots = 1;
  int subtask_id = -1;  // an instance of a multi-instance task: its subtask id (0 = primary)
};

// Slots held by the node's attempts.
int used_slots(const json& node);

// Adds the attempt when `slots` more fit in `slots_per_node`; false (node unchanged) when they
// do not or the attempt is already listed.
bool add_attempt(json& node, const AttemptOnNode& attempt, int slots_per_node, TimePoint now);

// Removes the attempt; false when it is not listed. `succeeded` (nullopt: the attempt was
// requeued or cancelled, not run to an end) feeds totalTasksRun/totalTasksSucceeded, and
// `task_state` / `execution_info` update its recentTasks entry.
bool remove_attempt(json& node, std::string_view attempt_id, std::optional<bool> succeeded,
                    std::string_view task_state, const json& execution_info, TimePoint now);

// The attempts listed on the node.
std::vector<AttemptOnNode> attempts_of(const json& node);

}  // namespace openbatch::domain
