// Names and sentences for placement reasons.
#include "scheduler/placement/reason.hpp"

#include <array>
#include <utility>

namespace openbatch::placement {
namespace {

constexpr std::array<std::pair<ReasonCode, std::string_view>, 14> kCodes{{
    {ReasonCode::PoolNotFound, "PoolNotFound"},
    {ReasonCode::NoNodes, "NoNodes"},
    {ReasonCode::NoSchedulableNodes, "NoSchedulableNodes"},
    {ReasonCode::JobMaxParallelTasksReached, "JobMaxParallelTasksReached"},
    {ReasonCode::RequiredSlotsExceedNodeSlots, "RequiredSlotsExceedNodeSlots"},
    {ReasonCode::InterNodeCommunicationDisabled, "InterNodeCommunicationDisabled"},
    {ReasonCode::MultiInstanceNeedsSingleSlotNodes, "MultiInstanceNeedsSingleSlotNodes"},
    {ReasonCode::NotEnoughNodesForGang, "NotEnoughNodesForGang"},
    {ReasonCode::ReservedForGang, "ReservedForGang"},
    {ReasonCode::InsufficientSlots, "InsufficientSlots"},
    {ReasonCode::NodeNotSchedulable, "NodeNotSchedulable"},
    {ReasonCode::NodeSchedulingDisabled, "NodeSchedulingDisabled"},
    {ReasonCode::InsufficientGpus, "InsufficientGpus"},
    {ReasonCode::CudaVersionTooOld, "CudaVersionTooOld"},
}};

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// "1 free task slot", "4 free task slots".
std::string counted(int n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string cuda_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string describe_gang(const Reason& r) {
  if (r.total < r.need) {
    return "multi-instance task needs " + counted(r.need, "node") + " at once; the pool has only " +
           counted(r.total, "schedulable node");
  }
  return "multi-instance task needs " + counted(r.need, "free node") + " at once; " +
         std::to_string(r.have) + " of " + counted(r.total, "schedulable node") +
         (r.have == 1 ? " is" : " are") + " free";
}

std::string describe_node(const Reason& r) {
  switch (r.code) {
    case ReasonCode::NodeNotSchedulable:
      return "node is " + std::string(to_string(r.node_state)) +
             "; only idle and running nodes take tasks";
    case ReasonCode::NodeSchedulingDisabled:
      return "scheduling is disabled on the node";
    case ReasonCode::InsufficientGpus:
      return "needs " + counted(r.need, "GPU") +
             (r.subject.empty() ? "" : " of SKU " + quoted(r.subject)) + ", node has " +
             std::to_string(r.have);
    case ReasonCode::CudaVersionTooOld:
      return "needs CUDA " + cuda_text(r.need) + ", " +
             (r.have == 0 ? "node has no NVIDIA driver"
                          : "node driver supports CUDA " + cuda_text(r.have));
    default:
      return std::string(to_string(r.code));
  }
}

}  // namespace

std::string_view to_string(ReasonCode code) {
  for (const auto& [value, name] : kCodes) {
    if (value == code) return name;
  }
  return "Unknown";
}

std::optional<ReasonCode> parse_reason_code(std::string_view text) {
  for (const auto& [value, name] : kCodes) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string describe(const Reason& r) {
  switch (r.code) {
    case ReasonCode::PoolNotFound:
      return "pool " + quoted(r.subject) + " does not exist";
    case ReasonCode::NoNodes:
      return "pool " + quoted(r.subject) + " has no compute nodes";
    case ReasonCode::NoSchedulableNodes:
      return "none of the pool's " + counted(r.total, "node") +
             " takes tasks (a node must be idle or running with scheduling enabled)";
    case ReasonCode::JobMaxParallelTasksReached:
      return "job " + quoted(r.subject) + " already runs " + counted(r.have, "task") +
             "; its maxParallelTasks is " + std::to_string(r.need);
    case ReasonCode::RequiredSlotsExceedNodeSlots:
      return "task needs " + counted(r.need, "slot") + " but the pool's taskSlotsPerNode is " +
             std::to_string(r.have) + "; it can never run there";
    case ReasonCode::InterNodeCommunicationDisabled:
      return "multi-instance task needs enableInterNodeCommunication on pool " + quoted(r.subject);
    case ReasonCode::MultiInstanceNeedsSingleSlotNodes:
      return "multi-instance task needs taskSlotsPerNode 1; the pool has " + std::to_string(r.have);
    case ReasonCode::NotEnoughNodesForGang:
      return describe_gang(r);
    case ReasonCode::ReservedForGang:
      return "held for multi-instance task " + quoted(r.subject) + ", which is ahead in the queue";
    case ReasonCode::InsufficientSlots:
      return "needs " + counted(r.need, "free task slot") + ", " + std::to_string(r.have) +
             (r.subject.empty() ? " free" : " free on the best node of pool " + quoted(r.subject));
    default:
      return describe_node(r);
  }
}

namespace reasons {
namespace {

Reason make(ReasonCode code, int need = 0, int have = 0, int total = 0,
            std::string_view subject = {}) {
  Reason r;
  r.code = code;
  r.need = need;
  r.have = have;
  r.total = total;
  r.subject = std::string(subject);
  return r;
}

}  // namespace

Reason pool_not_found(std::string_view pool_id) {
  return make(ReasonCode::PoolNotFound, 0, 0, 0, pool_id);
}
Reason no_nodes(std::string_view pool_id) { return make(ReasonCode::NoNodes, 0, 0, 0, pool_id); }
Reason no_schedulable_nodes(int nodes) { return make(ReasonCode::NoSchedulableNodes, 0, 0, nodes); }
Reason job_max_parallel_tasks_reached(std::string_view job_id, int limit, int running) {
  return make(ReasonCode::JobMaxParallelTasksReached, limit, running, 0, job_id);
}
Reason required_slots_exceed_node_slots(int required_slots, int task_slots_per_node) {
  return make(ReasonCode::RequiredSlotsExceedNodeSlots, required_slots, task_slots_per_node);
}
Reason inter_node_communication_disabled(std::string_view pool_id) {
  return make(ReasonCode::InterNodeCommunicationDisabled, 0, 0, 0, pool_id);
}
Reason multi_instance_needs_single_slot_nodes(int task_slots_per_node) {
  return make(ReasonCode::MultiInstanceNeedsSingleSlotNodes, 1, task_slots_per_node);
}
Reason not_enough_nodes_for_gang(int instances, int free_nodes, int schedulable_nodes) {
  return make(ReasonCode::NotEnoughNodesForGang, instances, free_nodes, schedulable_nodes);
}
Reason reserved_for_gang(std::string_view gang_job_id, std::string_view gang_task_id) {
  return make(ReasonCode::ReservedForGang, 0, 0, 0,
              std::string(gang_job_id) + "/" + std::string(gang_task_id));
}
Reason insufficient_slots(int need, int free, std::string_view pool_id) {
  return make(ReasonCode::InsufficientSlots, need, free, 0, pool_id);
}
Reason node_not_schedulable(NodeState state) {
  Reason r = make(ReasonCode::NodeNotSchedulable);
  r.node_state = state;
  return r;
}
Reason node_scheduling_disabled() { return make(ReasonCode::NodeSchedulingDisabled); }
Reason insufficient_gpus(int need, int matching, std::string_view sku) {
  return make(ReasonCode::InsufficientGpus, need, matching, 0, sku);
}
Reason cuda_version_too_old(int need, int driver_version) {
  return make(ReasonCode::CudaVersionTooOld, need, driver_version);
}

}  // namespace reasons

bool is_permanent(const Reason& reason) {
  switch (reason.code) {
    case ReasonCode::RequiredSlotsExceedNodeSlots:
    case ReasonCode::InterNodeCommunicationDisabled:
    case ReasonCode::MultiInstanceNeedsSingleSlotNodes:
      return true;
    default:
      return false;
  }
}

}  // namespace openbatch::placement
