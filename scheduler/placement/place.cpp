// place(): one greedy pass over the pending tasks in the caller's order -- task rules, then
// filter -> score -> select over each pool's best-first node set (pool_index.hpp), gangs all or
// nothing with reservations, and a bounded report for every task left pending.
#include "scheduler/placement/place.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/placement/filters.hpp"
#include "scheduler/placement/pool_index.hpp"

#include <algorithm>
#include <cassert>
#include <map>
#include <optional>
#include <string_view>

namespace openbatch::placement {
namespace {

using detail::PoolIndex;
using detail::WorkingNode;
using text::ILess;

struct JobBudget {
  int limit = -1;  // maxParallelTasks; negative = unlimited
  int running = 0;
};

// Reasons about the task as a whole name no node; the others come with per-node detail.
bool has_node_detail(ReasonCode code) {
  switch (code) {
    case ReasonCode::PoolNotFound:
    case ReasonCode::NoNodes:
    case ReasonCode::JobMaxParallelTasksReached:
    case ReasonCode::RequiredSlotsExceedNodeSlots:
    case ReasonCode::InterNodeCommunicationDisabled:
    case ReasonCode::MultiInstanceNeedsSingleSlotNodes:
      return false;
    default:
      return true;
  }
}

Reason reserved_by(const PoolIndex& pool) {
  const PendingTask& gang = *pool.first_reserver();
  return reasons::reserved_for_gang(gang.job_id, gang.task_id);
}

// One place() call. Holds pointers into the snapshot and the task span, which outlive it.
class Placer {
 public:
  Placer(const ClusterSnapshot& cluster, std::span<const PendingTask> tasks,
         const PlacementPolicy& policy)
      : tasks_(tasks), policy_(policy) {
    build_nodes(cluster);
    build_jobs(cluster);
  }
  // PoolIndex points into nodes_: a Placer stays where it was built.
  Placer(const Placer&) = delete;
  Placer& operator=(const Placer&) = delete;
  ~Placer() = default;

  PlacementResult run() {
    std::size_t i = 0;
    for (; i < tasks_.size() && pools_with_free_slots_ > 0; ++i) {
      assert(i == 0 || !placement_order(tasks_[i], tasks_[i - 1]));
      examine(i);
    }
    result_.tasks_examined = i;
    return std::move(result_);
  }

 private:
  void build_nodes(const ClusterSnapshot& cluster);
  void build_jobs(const ClusterSnapshot& cluster);
  void examine(std::size_t index);
  std::optional<Reason> check_pool(const PoolIndex& pool, const TaskRequest& request,
                                   std::size_t width) const;
  bool place_single(std::size_t index, PoolIndex& pool, const TaskRequest& request);
  bool place_gang(std::size_t index, PoolIndex& pool, const TaskRequest& request,
                  std::size_t width);
  Reason single_summary(const PoolIndex& pool, const TaskRequest& request) const;
  void commit(std::size_t index, PoolIndex& pool, std::span<const uint32_t> chosen, int slots);
  void hold(std::size_t index, PoolIndex& pool, std::span<const uint32_t> chosen);
  void leave_pending(std::size_t index, Reason reason, const PoolIndex* pool,
                     const TaskRequest* request);
  std::vector<NodeReason> node_detail(const PoolIndex& pool, const TaskRequest& request) const;
  void track_capacity(bool had_free, const PoolIndex& pool);

  NodeView view(uint32_t node) const {
    const WorkingNode& n = nodes_[node];
    return NodeView{*n.snapshot, n.free_slots, n.reserved_by};
  }
  bool fits(uint32_t node, const TaskRequest& request) const {
    return !first_failure(view(node), request);
  }

  std::span<const PendingTask> tasks_;
  const PlacementPolicy& policy_;
  std::vector<WorkingNode> nodes_;  // sorted by node id; indices are the final tie-break
  std::map<std::string_view, PoolIndex, ILess> pools_;
  std::map<std::string_view, JobBudget, ILess> jobs_;
  std::size_t pools_with_free_slots_ = 0;
  std::size_t detailed_ = 0;  // pending reports that carry per-node detail so far
  PlacementResult result_;
};

void Placer::build_nodes(const ClusterSnapshot& cluster) {
  for (const PoolSnapshot& pool : cluster.pools) pools_.try_emplace(pool.id, pool, nodes_);
  std::vector<const NodeSnapshot*> sorted;
  sorted.reserve(cluster.nodes.size());
  for (const NodeSnapshot& node : cluster.nodes) {
    if (pools_.contains(node.pool_id)) sorted.push_back(&node);
  }
  // Stable, so that of two entries with one id the first listed is kept.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const NodeSnapshot* a, const NodeSnapshot* b) { return a->id < b->id; });
  sorted.erase(
      std::unique(sorted.begin(), sorted.end(),
                  [](const NodeSnapshot* a, const NodeSnapshot* b) { return a->id == b->id; }),
      sorted.end());
  nodes_.reserve(sorted.size());
  for (const NodeSnapshot* node : sorted) {
    PoolIndex& pool = pools_.find(node->pool_id)->second;
    const int free = std::max(0, pool.pool().task_slots_per_node - std::max(0, node->used_slots));
    nodes_.push_back(WorkingNode{node, free, std::max(0, node->running_tasks), takes_tasks(*node)});
    pool.add(static_cast<uint32_t>(nodes_.size() - 1));
  }
  for (const auto& [id, pool] : pools_) {
    if (pool.max_free_slots() > 0) ++pools_with_free_slots_;
  }
}

void Placer::build_jobs(const ClusterSnapshot& cluster) {
  for (const JobSnapshot& job : cluster.jobs) {
    jobs_.try_emplace(job.id, JobBudget{job.max_parallel_tasks, job.running_tasks});
  }
}

void Placer::examine(std::size_t index) {
  const PendingTask& task = tasks_[index];
  auto pool_it = pools_.find(task.pool_id);
  if (pool_it == pools_.end()) {
    return leave_pending(index, reasons::pool_not_found(task.pool_id), nullptr, nullptr);
  }
  PoolIndex& pool = pool_it->second;
  auto job_it = jobs_.find(task.job_id);
  JobBudget* job = job_it == jobs_.end() ? nullptr : &job_it->second;
  if (job != nullptr && job->limit >= 0 && job->running >= job->limit) {
    return leave_pending(
        index, reasons::job_max_parallel_tasks_reached(task.job_id, job->limit, job->running),
        nullptr, nullptr);
  }
  const TaskRequest request{task, pool.pool(), std::max(1, task.required_slots)};
  const auto width = static_cast<std::size_t>(std::max(1, task.number_of_instances));
  if (auto reason = check_pool(pool, request, width)) {
    return leave_pending(index, std::move(*reason), &pool, &request);
  }
  const bool placed =
      width == 1 ? place_single(index, pool, request) : place_gang(index, pool, request, width);
  if (placed && job != nullptr) ++job->running;
}

// The task rules that depend on the pool but on no single node.
std::optional<Reason> Placer::check_pool(const PoolIndex& pool, const TaskRequest& request,
                                         std::size_t width) const {
  const PoolSnapshot& p = pool.pool();
  if (request.slots > p.task_slots_per_node) {
    return reasons::required_slots_exceed_node_slots(request.slots, p.task_slots_per_node);
  }
  if (width > 1 && !p.enable_inter_node_communication) {
    return reasons::inter_node_communication_disabled(p.id);
  }
  if (width > 1 && p.task_slots_per_node != 1) {
    return reasons::multi_instance_needs_single_slot_nodes(p.task_slots_per_node);
  }
  if (pool.node_count() == 0) return reasons::no_nodes(p.id);
  if (width == 1 && pool.schedulable_count() == 0) {
    return reasons::no_schedulable_nodes(static_cast<int>(pool.node_count()));
  }
  return std::nullopt;
}

bool Placer::place_single(std::size_t index, PoolIndex& pool, const TaskRequest& request) {
  std::optional<uint32_t> choice;
  if (!request.task.affinity_id.empty()) {
    auto preferred = pool.find_affinity(request.task.affinity_id);
    if (preferred && pool.is_available(*preferred) && fits(*preferred, request)) choice = preferred;
  }
  if (!choice && request.slots <= pool.max_free_slots()) {
    pool.for_each_fitting(request.slots, [&](uint32_t node) {
      if (!fits(node, request)) return true;
      choice = node;
      return false;
    });
  }
  if (choice) {
    commit(index, pool, std::span<const uint32_t>(&*choice, 1), request.slots);
    return true;
  }
  leave_pending(index, single_summary(pool, request), &pool, &request);
  return false;
}

// Why no node took a single-node task: a gang's hold if that is what was in the way, else the
// slot shortage, else the reason of the best node that had the slots.
Reason Placer::single_summary(const PoolIndex& pool, const TaskRequest& request) const {
  if (pool.reserved_count() > 0 && pool.max_reserved_free_slots() >= request.slots) {
    return reserved_by(pool);
  }
  const int best = pool.max_free_slots();
  if (best < request.slots) {
    return reasons::insufficient_slots(request.slots, best, pool.pool().id);
  }
  std::optional<Reason> reason;
  pool.for_each_fitting(request.slots, [&](uint32_t node) {
    reason = first_failure(view(node), request);
    return false;
  });
  return reason.value_or(reasons::insufficient_slots(request.slots, best, pool.pool().id));
}

bool Placer::place_gang(std::size_t index, PoolIndex& pool, const TaskRequest& request,
                        std::size_t width) {
  std::vector<uint32_t> chosen;
  chosen.reserve(width);
  std::optional<uint32_t> preferred;
  if (!request.task.affinity_id.empty()) {
    preferred = pool.find_affinity(request.task.affinity_id);
    if (preferred && pool.is_available(*preferred) && fits(*preferred, request)) {
      chosen.push_back(*preferred);  // the affinity node becomes the primary
    }
  }
  if (chosen.size() < width) {
    pool.for_each_fitting(request.slots, [&](uint32_t node) {
      if (node != preferred && fits(node, request)) chosen.push_back(node);
      return chosen.size() < width;
    });
  }
  if (chosen.size() == width) {
    commit(index, pool, chosen, request.slots);
    return true;
  }
  const std::size_t schedulable = pool.schedulable_count();
  Reason reason = reasons::not_enough_nodes_for_gang(
      static_cast<int>(width), static_cast<int>(chosen.size()), static_cast<int>(schedulable));
  if (pool.reserved_count() > 0 && chosen.size() + pool.reserved_count() >= width) {
    reason = reserved_by(pool);
  }
  leave_pending(index, std::move(reason), &pool, &request);
  if (policy_.reserve_for_gangs && schedulable >= width && !chosen.empty()) {
    hold(index, pool, chosen);
  }
  return false;
}

void Placer::commit(std::size_t index, PoolIndex& pool, std::span<const uint32_t> chosen,
                    int slots) {
  const bool had_free = pool.max_free_slots() > 0;
  const PendingTask& task = tasks_[index];
  Assignment assignment{index, task.job_id, task.task_id, pool.pool().id, {}, slots};
  assignment.node_ids.reserve(chosen.size());
  for (uint32_t node : chosen) {
    pool.take(node, slots);
    assignment.node_ids.push_back(nodes_[node].snapshot->id);
  }
  result_.assignments.push_back(std::move(assignment));
  track_capacity(had_free, pool);
}

void Placer::hold(std::size_t index, PoolIndex& pool, std::span<const uint32_t> chosen) {
  const bool had_free = pool.max_free_slots() > 0;
  const PendingTask& task = tasks_[index];
  Reservation reservation{index, task.job_id, task.task_id, pool.pool().id, {}};
  reservation.node_ids.reserve(chosen.size());
  for (uint32_t node : chosen) {
    pool.reserve(node, task);
    reservation.node_ids.push_back(nodes_[node].snapshot->id);
  }
  result_.reservations.push_back(std::move(reservation));
  track_capacity(had_free, pool);
}

void Placer::track_capacity(bool had_free, const PoolIndex& pool) {
  // Capacity only shrinks within a round, so a pool leaves the count at most once.
  if (had_free && pool.max_free_slots() <= 0) --pools_with_free_slots_;
}

void Placer::leave_pending(std::size_t index, Reason reason, const PoolIndex* pool,
                           const TaskRequest* request) {
  const PendingTask& task = tasks_[index];
  PendingReport report{index, task.job_id, task.task_id, std::move(reason), {}, 0};
  if (pool != nullptr && request != nullptr && has_node_detail(report.reason.code)) {
    if (detailed_ < policy_.max_detailed_pending) {
      report.nodes = node_detail(*pool, *request);
      ++detailed_;
    }
    report.unlisted_nodes = pool->node_count() - report.nodes.size();
  }
  result_.pending.push_back(std::move(report));
}

// Up to max_node_reasons failing nodes: available ones most free first (the closest misses),
// then nodes held by gangs, then nodes that take no tasks. Nodes that fit are skipped; there
// are fewer than the task's width of them, so this is O(cap + width).
std::vector<NodeReason> Placer::node_detail(const PoolIndex& pool,
                                            const TaskRequest& request) const {
  std::vector<NodeReason> out;
  const std::size_t cap = policy_.max_node_reasons;
  auto add = [&](uint32_t node) {
    if (out.size() >= cap) return false;
    if (auto why = first_failure(view(node), request)) {
      out.push_back(NodeReason{nodes_[node].snapshot->id, std::move(*why)});
    }
    return true;
  };
  pool.for_each_most_free_first(add);
  for (uint32_t node : pool.reserved()) {
    if (!add(node)) break;
  }
  for (uint32_t node : pool.unschedulable()) {
    if (!add(node)) break;
  }
  return out;
}

}  // namespace

PlacementResult place(const ClusterSnapshot& cluster, std::span<const PendingTask> tasks,
                      const PlacementPolicy& policy) {
  Placer placer(cluster, tasks, policy);
  return placer.run();
}

}  // namespace openbatch::placement
