// Filters: the per-node rules of placement. Each filter is a plain function that answers
// "can this node take this task now?" with nothing (yes) or the Reason it cannot. They all sit
// in kFilters, checked in order; the first failure is the node's reason. Adding a rule (GPU
// sharing units, InfiniBand, ...) means writing one function and listing it here.
// Pure functions of their arguments; safe from any thread.
#pragma once

#include "scheduler/placement/reason.hpp"
#include "scheduler/placement/snapshot.hpp"

#include <array>
#include <optional>

namespace openbatch::placement {

// A node as a filter sees it during a round: the snapshot plus what earlier decisions of the
// same round changed.
struct NodeView {
  const NodeSnapshot& node;
  int free_slots = 0;                        // taskSlotsPerNode - used, minus this round's
  const PendingTask* reserved_by = nullptr;  // the gang task holding the node this round
};

// A task as a filter sees it.
struct TaskRequest {
  const PendingTask& task;
  const PoolSnapshot& pool;
  int slots = 1;  // requiredSlots, at least 1
};

using Filter = std::optional<Reason> (*)(const NodeView&, const TaskRequest&);

// Node state: only idle and running nodes take tasks.
std::optional<Reason> node_state_filter(const NodeView& node, const TaskRequest& task);
// schedulingState: disabled nodes take nothing new.
std::optional<Reason> scheduling_state_filter(const NodeView& node, const TaskRequest& task);
// A gang ahead in the queue holds the node for this round.
std::optional<Reason> reservation_filter(const NodeView& node, const TaskRequest& task);
// Enough free task slots for requiredSlots.
std::optional<Reason> free_slots_filter(const NodeView& node, const TaskRequest& task);
// Installed GPUs: at least gpu.count of the requested SKU. This checks the hardware only;
// handing out GPUs (exclusive or shared units) between tasks is the GPU allocator's job.
std::optional<Reason> gpu_filter(const NodeView& node, const TaskRequest& task);
// The node's driver supports at least the requested CUDA version.
std::optional<Reason> cuda_filter(const NodeView& node, const TaskRequest& task);

// Task-independent filters first: place() keeps nodes failing them out of its candidate sets.
inline constexpr std::array<Filter, 6> kFilters{
    &node_state_filter,  &scheduling_state_filter,
    &reservation_filter, &free_slots_filter,
    &gpu_filter,         &cuda_filter,
};

// The first filter in kFilters that rejects the node, or nullopt when the node fits.
std::optional<Reason> first_failure(const NodeView& node, const TaskRequest& task);

// True when the node takes tasks at all (the task-independent part of kFilters).
bool takes_tasks(const NodeSnapshot& node);

}  // namespace openbatch::placement
