// Builders for placement snapshots in tests: a pool, a node, a task in one line each, with the
// defaults of a fresh Azure pool (1 slot per node, spread, no inter-node communication).
#pragma once

#include "scheduler/placement/snapshot.hpp"

#include <string>
#include <utility>
#include <vector>

namespace openbatch::placement::testing {

inline PoolSnapshot make_pool(std::string id, int slots = 1,
                              NodeFillType fill = NodeFillType::Spread,
                              bool inter_node_communication = false) {
  PoolSnapshot pool;
  pool.id = std::move(id);
  pool.task_slots_per_node = slots;
  pool.fill_type = fill;
  pool.enable_inter_node_communication = inter_node_communication;
  return pool;
}

// A node; `used` slots held by as many running tasks.
inline NodeSnapshot make_node(std::string id, std::string pool_id, int used = 0,
                              NodeState state = NodeState::Idle) {
  NodeSnapshot node;
  node.affinity_id = "TVM:" + id;
  node.id = std::move(id);
  node.pool_id = std::move(pool_id);
  node.state = used > 0 && state == NodeState::Idle ? NodeState::Running : state;
  node.used_slots = used;
  node.running_tasks = used;
  return node;
}

inline PendingTask make_task(std::string job_id, std::string task_id, std::string pool_id,
                             int slots = 1, int instances = 1) {
  PendingTask task;
  task.job_id = std::move(job_id);
  task.task_id = std::move(task_id);
  task.pool_id = std::move(pool_id);
  task.required_slots = slots;
  task.number_of_instances = instances;
  return task;
}

// Tasks get increasing seq in the order they are listed (all at priority 0 unless changed).
inline std::vector<PendingTask> in_fifo_order(std::vector<PendingTask> tasks) {
  for (std::size_t i = 0; i < tasks.size(); ++i) tasks[i].seq = static_cast<int64_t>(i + 1);
  return tasks;
}

}  // namespace openbatch::placement::testing
