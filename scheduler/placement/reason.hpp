// Reason: why a task was left pending, or why one node could not take it. "No fit" is an
// expected outcome, so it is a value (style.md 3.3), and it powers "why is my task pending" in
// the API and CLI. A Reason is small (codes and numbers); describe() renders the sentence only
// when someone asks, so a round that leaves a million tasks pending stays cheap.
#pragma once

#include "scheduler/placement/snapshot.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace openbatch::placement {

enum class ReasonCode {
  // About the task as a whole (PendingReport::reason).
  PoolNotFound,                       // subject = pool id
  NoNodes,                            // subject = pool id
  NoSchedulableNodes,                 // total = nodes in the pool
  JobMaxParallelTasksReached,         // need = the limit, have = running, subject = job id
  RequiredSlotsExceedNodeSlots,       // need = requiredSlots, have = taskSlotsPerNode
  InterNodeCommunicationDisabled,     // subject = pool id
  MultiInstanceNeedsSingleSlotNodes,  // have = taskSlotsPerNode
  NotEnoughNodesForGang,              // need = instances, have = free, total = schedulable
  // About the task or one node.
  ReservedForGang,    // subject = "job/task" of the gang holding the node(s)
  InsufficientSlots,  // need, have = free slots (summary: the most on a node)
  // About one node.
  NodeNotSchedulable,  // node_state
  NodeSchedulingDisabled,
  InsufficientGpus,   // need, have = matching GPUs, subject = requested SKU
  CudaVersionTooOld,  // need, have = CUDA versions (1000 * major + 10 * minor)
};

struct Reason {
  ReasonCode code = ReasonCode::InsufficientSlots;
  int need = 0;
  int have = 0;
  int total = 0;
  NodeState node_state = NodeState::Idle;
  std::string subject;
  bool operator==(const Reason&) const = default;
};

struct NodeReason {
  std::string node_id;
  Reason reason;
  bool operator==(const NodeReason&) const = default;
};

// One factory per code, so that the fields each code uses are spelled out once.
namespace reasons {
Reason pool_not_found(std::string_view pool_id);
Reason no_nodes(std::string_view pool_id);
Reason no_schedulable_nodes(int nodes);
Reason job_max_parallel_tasks_reached(std::string_view job_id, int limit, int running);
Reason required_slots_exceed_node_slots(int required_slots, int task_slots_per_node);
Reason inter_node_communication_disabled(std::string_view pool_id);
Reason multi_instance_needs_single_slot_nodes(int task_slots_per_node);
Reason not_enough_nodes_for_gang(int instances, int free_nodes, int schedulable_nodes);
Reason reserved_for_gang(std::string_view gang_job_id, std::string_view gang_task_id);
// `pool_id` set: the summary for a task ("no node of the pool has more than `free`").
Reason insufficient_slots(int need, int free, std::string_view pool_id = {});
Reason node_not_schedulable(NodeState state);
Reason node_scheduling_disabled();
Reason insufficient_gpus(int need, int matching, std::string_view sku);
Reason cuda_version_too_old(int need, int driver_version);
}  // namespace reasons

// The code's name as written here ("InsufficientSlots"); used in fixtures and API replies.
std::string_view to_string(ReasonCode code);
std::optional<ReasonCode> parse_reason_code(std::string_view text);

// One English sentence, e.g. "needs 4 free task slots, 2 free".
std::string describe(const Reason& reason);

// True when the task cannot run in its pool as the pool is configured (requiredSlots above
// taskSlotsPerNode, a multi-instance task in a pool without inter-node communication or with
// several slots per node): it stays pending until the pool or the task changes, as in Azure.
bool is_permanent(const Reason& reason);

}  // namespace openbatch::placement
