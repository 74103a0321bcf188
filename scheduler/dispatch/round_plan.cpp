#include "scheduler/dispatch/round_plan.hpp"

#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/placement/place.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace openbatch::dispatch {
using cluster::ClusterModel;
using cluster::JobInfo;
using cluster::NodeInfo;
using cluster::PoolInfo;

namespace {

// Where each placement task came from: the job's key and the task's seq in it.
using Refs = std::vector<std::pair<std::string, int64_t>>;

bool schedulable(const NodeInfo& node) {
  return node.linked && !node.leaving && node.scheduling_enabled && domain::node_is_up(node.state);
}

const JobInfo* job_of(const ClusterModel& model, const std::string& job_key) {
  auto it = model.jobs.find(job_key);
  return it == model.jobs.end() ? nullptr : &it->second;
}

const cluster::PendingItem* item_of(const JobInfo* job, int64_t seq) {
  if (!job) return nullptr;
  auto it = job->pending.find(seq);
  return it == job->pending.end() ? nullptr : &it->second;
}

placement::NodeSnapshot snapshot_of(const NodeInfo& node, const PoolInfo& pool) {
  placement::NodeSnapshot snap;
  snap.id = node.id;
  snap.pool_id = pool.id;
  snap.state = node.state == domain::NodeState::Running ? placement::NodeState::Running
                                                        : placement::NodeState::Idle;
  snap.used_slots = node.used_slots;
  snap.running_tasks = static_cast<int>(node.attempts.size());
  snap.affinity_id = "TVM:" + node.id;
  snap.gpus = node.gpus;
  snap.cuda_driver_version = node.cuda_driver_version;
  snap.infiniband_active_ports = node.infiniband_active_ports;
  return snap;
}

// The pool's schedulable nodes with free slots in `cluster`; full ones in `full_nodes` (they
// matter only to a gang: they are what it waits for, and reserves around). Only the pool's own
// members are looked at. Returns the free slots.
int snapshot_nodes(const ClusterModel& model, const std::string& pool_key, const PoolInfo& pool,
                   placement::ClusterSnapshot& cluster, std::vector<const NodeInfo*>& full_nodes) {
  int free_slots = 0;
  for (const auto& id : model.members.members(pool_key)) {
    const NodeInfo* node = model.find_node(id);
    if (!node || !schedulable(*node)) continue;
    const int node_free = pool.task_slots_per_node - node->used_slots;
    if (node_free <= 0) {
      full_nodes.push_back(node);
      continue;
    }
    free_slots += node_free;
    cluster.nodes.push_back(snapshot_of(*node, pool));
  }
  return free_slots;
}

// The head of the queue: at most `limit` tasks, with the jobs whose maxParallelTasks bounds
// them.
std::vector<placement::PendingTask> head_of_queue(const ClusterModel& model,
                                                  const std::set<cluster::QueueKey>& queue,
                                                  const PoolInfo& pool, std::size_t limit,
                                                  placement::ClusterSnapshot& cluster, Refs& refs) {
  std::vector<placement::PendingTask> tasks;
  std::set<std::string> jobs_seen;
  for (auto it = queue.begin(); it != queue.end() && tasks.size() < limit; ++it) {
    const JobInfo* job = job_of(model, it->job_key);
    const cluster::PendingItem* item = item_of(job, it->seq);
    if (!item) continue;
    placement::PendingTask t;
    t.job_id = job->id;
    t.task_id = item->task_id;
    t.pool_id = pool.id;
    t.priority = job->priority;
    t.seq = item->seq;
    t.required_slots = item->required_slots;
    t.number_of_instances = item->instances;
    t.affinity_id = item->affinity_id;
    t.gpu = item->gpu;
    tasks.push_back(std::move(t));
    refs.emplace_back(it->job_key, it->seq);
    if (job->max_parallel >= 0 && jobs_seen.insert(it->job_key).second) {
      cluster.jobs.push_back({job->id, job->max_parallel, job->running});
    }
  }
  return tasks;
}

void add_dispatches(const ClusterModel& model, const PoolInfo& pool,
                    const placement::PlacementResult& result, const Refs& refs,
                    const RoundLimits& limits, RoundPlan& plan) {
  for (const auto& a : result.assignments) {
    const auto& [job_key, seq] = refs[a.task_index];
    const JobInfo* job = job_of(model, job_key);
    const cluster::PendingItem* item = item_of(job, seq);
    if (!item || a.node_ids.empty()) continue;
    const NodeInfo* node = model.find_node(a.node_ids[0]);
    if (!node) continue;
    Dispatch d;
    d.job_id = job->id;
    d.pool_id = pool.id;
    d.node_id = node->id;
    d.item = *item;
    d.slots_per_node = pool.task_slots_per_node;
    d.job_environment = job->common_environment;
    if (a.node_ids.size() > 1) {
      bool all_known = true;
      for (const auto& id : a.node_ids) {
        const NodeInfo* member = model.find_node(id);
        if (!member) {
          all_known = false;
          break;
        }
        d.members.push_back(
            {member->id, limits.account_url + "/pools/" + pool.id + "/nodes/" + member->id,
             member->ip_address, member->hostname, member->exec_port, member->network});
      }
      if (!all_known) continue;
    }
    plan.dispatches.push_back(std::move(d));
  }
}

// A task at the head of its queue that no node can take for a reason other than busy slots (a
// CUDA driver too old, too few GPUs, a gang that cannot fit...) gets the reason on its record,
// only when the sentence changes, so a task waiting for the same reason costs nothing per round.
void add_pending_reasons(const ClusterModel& model,
                         const std::vector<placement::PendingReport>& pending, const Refs& refs,
                         RoundPlan& plan) {
  for (const auto& report : pending) {
    const auto code = report.reason.code;
    if (code == placement::ReasonCode::InsufficientSlots ||
        code == placement::ReasonCode::ReservedForGang)
      continue;
    const auto& [job_key, seq] = refs[report.task_index];
    const JobInfo* job = job_of(model, job_key);
    const cluster::PendingItem* item = item_of(job, seq);
    if (!item) continue;
    std::string message = placement::describe(report.reason);
    if (item->pending_reason == message) continue;
    plan.reasons.push_back(
        {job->id, item->task_id, std::string(placement::to_string(code)), std::move(message)});
  }
}

void plan_pool(const ClusterModel& model, const std::string& pool_key, const PoolInfo& pool,
               const std::set<cluster::QueueKey>& queue, const RoundLimits& limits,
               RoundPlan& plan) {
  placement::ClusterSnapshot cluster;
  cluster.pools.push_back({pool.id, pool.task_slots_per_node, pool.fill, pool.inter_node});
  std::vector<const NodeInfo*> full_nodes;
  const int free_slots = snapshot_nodes(model, pool_key, pool, cluster, full_nodes);
  if (free_slots == 0) return;
  // At most as many tasks as could start now (plus a little, so a task that fits nowhere does
  // not hide the next one). Multi-instance tasks wait for the MPI work (never placed half).
  const std::size_t limit = std::min<std::size_t>(limits.max_dispatch_per_round,
                                                  static_cast<std::size_t>(free_slots) + 16);
  Refs refs;
  auto tasks = head_of_queue(model, queue, pool, limit, cluster, refs);
  if (tasks.empty()) return;
  if (std::any_of(tasks.begin(), tasks.end(),
                  [](const auto& t) { return t.number_of_instances > 1; })) {
    for (const NodeInfo* n : full_nodes) cluster.nodes.push_back(snapshot_of(*n, pool));
  }
  placement::PlacementPolicy policy;
  policy.max_detailed_pending = 0;  // the dispatcher needs decisions, not explanations
  auto result = placement::place(cluster, tasks, policy);
  add_pending_reasons(model, result.pending, refs, plan);
  add_dispatches(model, pool, result, refs, limits, plan);
}

}  // namespace

RoundPlan plan_round(const ClusterModel& model, const RoundLimits& limits) {
  RoundPlan plan;
  for (const auto& [pool_key, queue] : model.queues) {
    if (queue.empty()) continue;
    auto pool_it = model.pools.find(pool_key);
    if (pool_it == model.pools.end() || pool_it->second.state != domain::PoolState::Active)
      continue;
    plan_pool(model, pool_key, pool_it->second, queue, limits, plan);
  }
  return plan;
}

}  // namespace openbatch::dispatch
