// place(): the placement decision as a pure function -- (cluster snapshot, pending tasks in
// priority order, policy) -> (assignments, gang reservations, and for each task left pending a
// reason, with per-node detail). No I/O, no clock, no globals; the same input always gives the
// same output, with every tie broken by node id. Safe to call from any thread.
//
// Rules, in the order a task meets them:
//   task:  its pool exists; its job is under maxParallelTasks; requiredSlots <= taskSlotsPerNode;
//          a multi-instance task needs enableInterNodeCommunication and taskSlotsPerNode == 1;
//          the pool has nodes, enough of them schedulable (N for a gang).
//   nodes: every filter in kFilters (filters.hpp): state, schedulingState, gang reservation,
//          free slots, GPUs, CUDA. The affinityId node is tried first (a soft preference);
//          otherwise the best node for the pool's nodeFillType: spread = most free slots, then
//          fewest running tasks, then id; pack = fewest free slots that still fit, then id.
//   gang:  a task with numberOfInstances N > 1 gets N distinct nodes at once or none.
//
// Gang reservation (policy.reserve_for_gangs): tasks are decided strictly in the given order.
// When a gang task G passes the task rules but fewer than N nodes fit it now, the M < N nodes
// that do fit are reserved for G: no task after G in the order (lower priority, or the same
// priority submitted later) is placed on them in this round. Other nodes stay open. In a pool
// made for gangs (taskSlotsPerNode 1) the nodes that fit G are exactly the pool's free nodes, so
// the pool takes no new work until G starts; each round G reserves again whatever is free, so
// narrow tasks cannot starve it. A gang that can never fit (fewer than N schedulable nodes,
// wrong pool settings) or whose job is at maxParallelTasks reserves nothing.
//
// Early stop: place() tracks which pools still have a free slot on an available node. Once
// none has, it stops; tasks from tasks_examined on were not looked at (they wait for capacity)
// and get no report. A task also stops being examined at its first failing rule.
//
// Complexity, with P pools, J jobs, n nodes (n_p in the task's pool), T tasks examined,
// K = policy.max_node_reasons: building the round costs O(n log n + P log P + J log J).
// A placed single-node task costs O(log P + log J + log n_p); a gang of N costs
// O(N log n_p); a task left pending O(log P + log J), plus O(K + N) for its node detail while
// fewer than policy.max_detailed_pending tasks have been detailed. Nodes are visited best
// first, so only GPU/CUDA filters that reject the best candidates make a search visit more
// than the nodes it takes. No step scans a pool's nodes or the task list per task.
#pragma once

#include "scheduler/placement/reason.hpp"
#include "scheduler/placement/snapshot.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace openbatch::placement {

struct PlacementPolicy {
  std::size_t max_node_reasons = 16;        // per-node detail kept per pending task
  std::size_t max_detailed_pending = 1024;  // pending tasks that get per-node detail at all
  bool reserve_for_gangs = true;
};

struct Assignment {
  std::size_t task_index = 0;  // into the tasks span
  std::string job_id;
  std::string task_id;
  std::string pool_id;
  std::vector<std::string> node_ids;  // one per instance; [0] is the primary (master)
  int slots_per_node = 1;             // requiredSlots taken on each node
  bool operator==(const Assignment&) const = default;
};

struct Reservation {
  std::size_t task_index = 0;  // the gang task
  std::string job_id;
  std::string task_id;
  std::string pool_id;
  std::vector<std::string> node_ids;  // held for it this round (fewer than it needs)
  bool operator==(const Reservation&) const = default;
};

struct PendingReport {
  std::size_t task_index = 0;
  std::string job_id;
  std::string task_id;
  Reason reason;                   // the summary: the rule that kept the task pending
  std::vector<NodeReason> nodes;   // why individual nodes could not take it, best nodes first
  std::size_t unlisted_nodes = 0;  // nodes of the pool not in `nodes` (fit, or over the cap)
  bool operator==(const PendingReport&) const = default;
};

struct PlacementResult {
  std::vector<Assignment> assignments;    // in task order
  std::vector<PendingReport> pending;     // every examined task not placed, in task order
  std::vector<Reservation> reservations;  // in task order
  // Tasks [0, tasks_examined) were decided; later ones were not looked at because no pool had
  // a free slot left.
  std::size_t tasks_examined = 0;
  bool operator==(const PlacementResult&) const = default;
};

// Decides placements for `tasks`, which the caller gives sorted by placement_order (priority
// descending, then seq ascending); place() does not sort or scan ahead.
PlacementResult place(const ClusterSnapshot& cluster, std::span<const PendingTask> tasks,
                      const PlacementPolicy& policy = {});

}  // namespace openbatch::placement
