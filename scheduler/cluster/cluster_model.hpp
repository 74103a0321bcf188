// ClusterModel: the engine's in-memory model of the cluster (model.hpp has its records) -- the
// maps by id, the per-pool queues placement reads from, and the bookkeeping that keeps them
// consistent: pending tasks in and out of their queues, attempts and gangs recorded and
// forgotten. No I/O; used on the engine's strand only.
#pragma once

#include "scheduler/cluster/model.hpp"
#include "scheduler/cluster/pool_membership.hpp"

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace openbatch::cluster {

// "job\ntask", lowercased: the engine's key of a task.
std::string task_key(std::string_view job_id, std::string_view task_id);

class ClusterModel {
 public:
  NodeInfo* find_node(const std::string& id);
  const NodeInfo* find_node(const std::string& id) const;
  JobInfo* find_job(const std::string& id);
  const PoolInfo* find_pool(const std::string& id) const;

  // Pending tasks: queued in their pool's queue while their job is.
  void add_pending(JobInfo& job, PendingItem item);
  // add_pending for a task our own commit moved back to active, unless it runs again already.
  void readd_pending(JobInfo& job, PendingItem item);
  void remove_pending(const std::string& job_id, const std::string& task_id);
  void queue_job(JobInfo& job);
  void unqueue_job(JobInfo& job);

  // A multi-instance task's instance found on a node (at load): its gang learns of it.
  void adopt_instance(AttemptInfo& info, const std::string& attempt_id, int subtask_id);
  // An instance of a gang was forgotten: the gang goes once no instance is left.
  void forget_instance(const AttemptInfo& info);
  // An instance's completion or requeue is being committed (it decides the task).
  bool gang_deciding(const std::string& primary) const;
  // Drops a finished attempt: off its node (slots), off its task, off its gang and its job's
  // running count. The job, when known, for what follows (requeue, job completion).
  JobInfo* drop_attempt(const std::string& attempt_id, const AttemptInfo& info);

  std::unordered_map<std::string, PoolInfo> pools;               // by lowercased id
  std::unordered_map<std::string, JobInfo> jobs;                 // by lowercased id
  std::unordered_map<std::string, std::set<QueueKey>> queues;    // by lowercased pool id
  std::unordered_map<std::string, int64_t> pending_seq;          // task_key -> seq
  std::unordered_map<std::string, NodeInfo> nodes;               // by node id (ours: exact)
  std::unordered_map<std::string, AttemptInfo> attempts;         // by attempt id
  std::unordered_map<std::string, std::string> attempt_of_task;  // task_key -> attempt id
  std::unordered_map<std::string, GangInfo> gangs;               // by the primary's attempt id
  // nodes not leaving, by lowercased pool id, and the pools to reconcile.
  PoolMembership members;
};

}  // namespace openbatch::cluster
