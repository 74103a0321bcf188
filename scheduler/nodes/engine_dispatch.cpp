// Engine: placement rounds. A round takes, per pool with free slots, the head of its queue
// (bounded by the free slots, never the whole backlog), asks placement::place() where they go,
// reserves the slots in memory, and commits all of the round's dispatches in ONE store op
// that re-reads each task (still active?) and each node (still up, and do the slots still fit
// its durable attempt list?). Only committed dispatches are sent to agents.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/package_resolution.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/nodes/node_record.hpp"
#include "scheduler/nodes/task_execution.hpp"
#include "scheduler/placement/place.hpp"

namespace openbatch::nodes {
namespace asio = boost::asio;
using nlohmann::json;
using store::Table;

struct Engine::Dispatch {
  std::string job_id;
  std::string pool_id;
  std::string node_id;
  PendingItem item;
  int slots_per_node = 1;
  json job_environment;
  // Filled by the commit.
  bool committed = false;
  bool still_pending = false;  // not committed, but the task is still active in the store
  std::string attempt_id;
  protocol::Assignment assignment;
};

void Engine::schedule_round() {
  if (round_scheduled_ || stopped_) return;
  round_scheduled_ = true;
  asio::post(strand_, [this] { run_round(); });
}

namespace {

bool schedulable(const NodeInfo& node) {
  return node.linked && !node.leaving && node.scheduling_enabled && (node.state == "idle" || node.state == "running");
}

}  // namespace

void Engine::run_round() {
  round_scheduled_ = false;
  if (stopped_) return;
  std::vector<Dispatch> dispatches;
  std::vector<PendingReasonWrite> reason_writes;
  for (auto& [pool_key, queue] : queues_) {
    if (queue.empty()) continue;
    auto pool_it = pools_.find(pool_key);
    if (pool_it == pools_.end() || pool_it->second.state != "active") continue;
    const PoolInfo& pool = pool_it->second;

    placement::ClusterSnapshot cluster;
    cluster.pools.push_back({pool.id, pool.task_slots_per_node, pool.fill, pool.inter_node});
    int free_slots = 0;
    for (const auto& [id, node] : nodes_) {
      if (lower(node.pool_id) != pool_key || !schedulable(node)) continue;
      const int node_free = pool.task_slots_per_node - node.used_slots;
      if (node_free <= 0) continue;
      free_slots += node_free;
      placement::NodeSnapshot snap;
      snap.id = node.id;
      snap.pool_id = pool.id;
      snap.state = node.state == "running" ? placement::NodeState::Running : placement::NodeState::Idle;
      snap.used_slots = node.used_slots;
      snap.running_tasks = static_cast<int>(node.attempts.size());
      snap.affinity_id = "TVM:" + node.id;
      snap.gpus = node.gpus;
      snap.cuda_driver_version = node.cuda_driver_version;
      snap.infiniband_active_ports = node.infiniband_active_ports;
      cluster.nodes.push_back(std::move(snap));
    }
    if (free_slots == 0) continue;

    // The head of the queue: at most as many tasks as could start now (plus a little, so a
    // task that fits nowhere does not hide the next one). Multi-instance tasks wait for the
    // MPI work (they are never placed half).
    const std::size_t limit = std::min<std::size_t>(config_.max_dispatch_per_round, static_cast<std::size_t>(free_slots) + 16);
    std::vector<placement::PendingTask> tasks;
    std::vector<std::pair<std::string, int64_t>> refs;  // job key, seq
    std::set<std::string> jobs_seen;
    for (auto it = queue.begin(); it != queue.end() && tasks.size() < limit; ++it) {
      JobInfo& job = jobs_[it->job_key];
      auto item_it = job.pending.find(it->seq);
      if (item_it == job.pending.end()) continue;
      const PendingItem& item = item_it->second;
      if (item.instances > 1) continue;
      placement::PendingTask t;
      t.job_id = job.id;
      t.task_id = item.task_id;
      t.pool_id = pool.id;
      t.priority = job.priority;
      t.seq = item.seq;
      t.required_slots = item.required_slots;
      t.affinity_id = item.affinity_id;
      t.gpu = item.gpu;
      tasks.push_back(std::move(t));
      refs.emplace_back(it->job_key, it->seq);
      if (job.max_parallel >= 0 && jobs_seen.insert(it->job_key).second) {
        cluster.jobs.push_back({job.id, job.max_parallel, job.running});
      }
    }
    if (tasks.empty()) continue;
    placement::PlacementPolicy policy;
    policy.max_detailed_pending = 0;  // the dispatcher needs decisions, not explanations
    auto result = placement::place(cluster, tasks, policy);
    note_pending_reasons(result.pending, refs, reason_writes);
    for (const auto& a : result.assignments) {
      const auto& [job_key, seq] = refs[a.task_index];
      JobInfo& job = jobs_[job_key];
      auto item_it = job.pending.find(seq);
      if (item_it == job.pending.end() || a.node_ids.empty()) continue;
      NodeInfo* node = find_node(a.node_ids[0]);
      if (!node) continue;
      Dispatch d;
      d.job_id = job.id;
      d.pool_id = pool.id;
      d.node_id = node->id;
      d.item = item_it->second;
      d.slots_per_node = pool.task_slots_per_node;
      d.job_environment = job.common_environment;
      remove_pending(job.id, d.item.task_id);
      node->used_slots += d.item.required_slots;  // reserved until the commit says otherwise
      job.running++;
      dispatches.push_back(std::move(d));
    }
  }
  if (!dispatches.empty()) commit_dispatches(std::move(dispatches));
  if (!reason_writes.empty()) write_pending_reasons(std::move(reason_writes));
}

// "Why is my task pending": a task at the head of its queue that no node can take for a reason
// other than busy slots (a CUDA driver too old, too few GPUs, a gang that cannot fit...) gets
// the reason on its record (openbatch.pendingReason {code, message}). Written only when the
// sentence changes, so a task waiting for the same reason costs nothing per round.
void Engine::note_pending_reasons(const std::vector<placement::PendingReport>& pending,
                                  const std::vector<std::pair<std::string, int64_t>>& refs,
                                  std::vector<PendingReasonWrite>& writes) {
  for (const auto& report : pending) {
    const auto code = report.reason.code;
    if (code == placement::ReasonCode::InsufficientSlots || code == placement::ReasonCode::ReservedForGang) continue;
    const auto& [job_key, seq] = refs[report.task_index];
    JobInfo& job = jobs_[job_key];
    auto item_it = job.pending.find(seq);
    if (item_it == job.pending.end()) continue;
    std::string message = placement::describe(report.reason);
    if (item_it->second.pending_reason == message) continue;
    item_it->second.pending_reason = message;
    writes.push_back({job.id, item_it->second.task_id, std::string(placement::to_string(code)), std::move(message)});
  }
}

void Engine::write_pending_reasons(std::vector<PendingReasonWrite> writes) {
  store_.submit(
      [writes = std::move(writes)](store::Writer& w) {
        for (const auto& write : writes) {
          auto record = w.get(Table::Tasks, write.job_id, write.task_id);
          if (!record || record->state != "active") continue;
          auto task = json::parse(record->body, nullptr, false);
          if (!task.is_object()) continue;
          task["openbatch"]["pendingReason"] = {{"code", write.code}, {"message", write.message}};
          record->body = dump_entity(task);
          if (!w.update(Table::Tasks, *record)) return false;
        }
        return true;
      },
      nullptr);
}

void Engine::commit_dispatches(std::vector<Dispatch> dispatches) {
  auto batch = std::make_shared<std::vector<Dispatch>>(std::move(dispatches));
  const TimePoint now = clock_.now();
  std::map<std::string, std::string> urls;  // node id -> url
  for (const auto& d : *batch) urls.emplace(d.node_id, node_url(d.pool_id, d.node_id));
  const std::string account_url = config_.account_url;
  store_.submit(
      [batch, now, urls, account_url](store::Writer& w) {
        struct NodeEdit {
          store::Record record;
          json body;
          bool dirty = false;
        };
        std::map<std::string, NodeEdit> nodes;
        for (auto& d : *batch) {
          d.committed = false;
          d.still_pending = false;
          auto task_record = w.get(Table::Tasks, d.job_id, d.item.task_id);
          if (!task_record || task_record->state != "active") continue;
          d.still_pending = true;
          auto node_it = nodes.find(d.node_id);
          if (node_it == nodes.end()) {
            auto record = w.get(Table::Nodes, d.pool_id, d.node_id);
            if (!record) continue;
            NodeEdit edit{std::move(*record), json(), false};
            edit.body = json::parse(edit.record.body, nullptr, false);
            node_it = nodes.emplace(d.node_id, std::move(edit)).first;
          }
          NodeEdit& node = node_it->second;
          const std::string node_state = node.body.is_object() ? node.body.value("state", "") : "";
          if (node_state != "idle" && node_state != "running") continue;
          auto task = json::parse(task_record->body, nullptr, false);
          if (!task.is_object()) continue;
          const std::string& job_id = task_record->parent;
          const std::string attempt_id = next_attempt_id(task, job_id, task_record->seq);
          AttemptOnNode on_node{attempt_id, job_id, task_record->id,
                                account_url + "/jobs/" + job_id + "/tasks/" + task_record->id,
                                d.item.required_slots};
          // The durable capacity check: the node's committed attempts plus this one must fit.
          if (!add_attempt(node.body, on_node, d.slots_per_node, now)) continue;
          node.dirty = true;
          json running = dispatch_task(std::move(task), job_id, {d.pool_id, d.node_id, urls.at(d.node_id)}, attempt_id, now);
          d.assignment = make_assignment(running, job_id, d.job_environment, attempt_id);
          if (auto refs = running.find("applicationPackageReferences"); refs != running.end() && !refs->empty()) {
            ResolvedPackages packages = resolve_packages(w, *refs);
            // Azure fails such a task with a pre-processing error: the null digest, which no
            // package has, makes the agent's install fail with the reference in the message.
            for (const auto& [app, version] : packages.unresolved) {
              spdlog::warn("task {}/{}: application package {} {} is not available", job_id, task_record->id, app,
                           version);
              packages.packages.push_back({app, version, std::string(64, '0'), 0, false});
            }
            d.assignment.application_packages = std::move(packages.packages);
          }
          task_record->state = "running";
          task_record->body = dump_entity(running);
          if (!w.update(Table::Tasks, *task_record)) return false;
          d.attempt_id = attempt_id;
          d.committed = true;
          d.still_pending = false;
        }
        for (auto& [id, node] : nodes) {
          if (!node.dirty) continue;
          node.record.state = node.body.value("state", node.record.state);
          node.record.body = dump_entity(node.body);
          if (!w.update(Table::Nodes, node.record)) return false;
        }
        return true;
      },
      [this, batch](const Status& status) {
        asio::post(strand_, [this, batch, ok = status.has_value()] {
          std::map<std::string, std::vector<protocol::Assignment>> to_send;
          for (auto& d : *batch) {
            NodeInfo* node = find_node(d.node_id);
            JobInfo* job = find_job(d.job_id);
            if (ok && d.committed) {
              attempts_[d.attempt_id] = AttemptInfo{d.job_id, d.item.task_id, d.node_id, d.item.required_slots, false, false};
              attempt_of_task_[task_key(d.job_id, d.item.task_id)] = d.attempt_id;
              if (node) {
                node->attempts.insert(d.attempt_id);
                if (node->state == "idle") node->state = "running";
                to_send[d.node_id].push_back(std::move(d.assignment));
              }
              continue;
            }
            // Not dispatched: give the reservation back. A task that is still active comes
            // back through the feed (or was never gone from the store); re-add it here when
            // the whole commit failed, since no change will announce it.
            if (node) node->used_slots -= d.item.required_slots;
            if (job) {
              job->running--;
              if (!ok || d.still_pending) add_pending(*job, d.item);
            }
          }
          for (auto& [node_id, assignments] : to_send) {
            NodeInfo* node = find_node(node_id);
            if (!node || !node->linked) continue;  // the next hello reconciles (lost -> requeue)
            for (auto& a : assignments) send(*node, std::move(a));
          }
          schedule_round();
        });
      });
}

}  // namespace openbatch::nodes
