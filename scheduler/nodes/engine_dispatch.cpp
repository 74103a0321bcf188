// Engine: placement rounds. A round takes, per pool with free slots, the head of its queue
// (bounded by the free slots, never the whole backlog), asks placement::place() where they go,
// reserves the slots in memory, and commits all of the round's dispatches in ONE store op
// that re-reads each task (still active?) and each node (still up, and do the slots still fit
// its durable attempt list?). Only committed dispatches are sent to agents.
#include "common/auth/bearer_token.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/nodes/gang_rows.hpp"
#include "scheduler/nodes/mpi_transport.hpp"
#include "scheduler/packages/resolution.hpp"
#include "scheduler/placement/place.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
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
  // A multi-instance task: its N nodes, [0] the primary's (node_id), and the token its
  // instances accept from each other's launcher. Empty for a plain task.
  struct Member {
    std::string node_id;
    std::string url;
    std::string address;
    std::string hostname;
    int exec_port = 0;
    json network;
  };
  std::vector<Member> members;
  std::string exec_token;
  // Filled by the commit.
  bool committed = false;
  bool still_pending = false;  // not committed, but the task is still active in the store
  std::string attempt_id;
  protocol::Assignment assignment;
  std::vector<protocol::Assignment> instances;  // a gang's, by subtask id
};

void Engine::schedule_round() {
  if (round_scheduled_ || stopped_) return;
  round_scheduled_ = true;
  asio::post(strand_, [this] { run_round(); });
}

namespace {

bool schedulable(const NodeInfo& node) {
  return node.linked && !node.leaving && node.scheduling_enabled &&
         (node.state == "idle" || node.state == "running");
}

placement::NodeSnapshot snapshot_of(const NodeInfo& node, const PoolInfo& pool) {
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
  return snap;
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
    // Full nodes matter only to a gang: they are what it waits for (and reserves around), so
    // they join the snapshot only when a multi-instance task is among those examined. Only the
    // pool's own members are looked at, and only those that can take a task get a snapshot.
    std::vector<const NodeInfo*> full_nodes;
    for (const auto& id : members_.members(pool_key)) {
      const NodeInfo* node = find_node(id);
      if (!node || !schedulable(*node)) continue;
      const int node_free = pool.task_slots_per_node - node->used_slots;
      if (node_free <= 0) {
        full_nodes.push_back(node);
        continue;
      }
      free_slots += node_free;
      cluster.nodes.push_back(snapshot_of(*node, pool));
    }
    if (free_slots == 0) continue;

    // The head of the queue: at most as many tasks as could start now (plus a little, so a
    // task that fits nowhere does not hide the next one). Multi-instance tasks wait for the
    // MPI work (they are never placed half).
    const std::size_t limit = std::min<std::size_t>(config_.max_dispatch_per_round,
                                                    static_cast<std::size_t>(free_slots) + 16);
    std::vector<placement::PendingTask> tasks;
    std::vector<std::pair<std::string, int64_t>> refs;  // job key, seq
    std::set<std::string> jobs_seen;
    for (auto it = queue.begin(); it != queue.end() && tasks.size() < limit; ++it) {
      JobInfo& job = jobs_[it->job_key];
      auto item_it = job.pending.find(it->seq);
      if (item_it == job.pending.end()) continue;
      const PendingItem& item = item_it->second;
      placement::PendingTask t;
      t.job_id = job.id;
      t.task_id = item.task_id;
      t.pool_id = pool.id;
      t.priority = job.priority;
      t.seq = item.seq;
      t.required_slots = item.required_slots;
      t.number_of_instances = item.instances;
      t.affinity_id = item.affinity_id;
      t.gpu = item.gpu;
      tasks.push_back(std::move(t));
      refs.emplace_back(it->job_key, it->seq);
      if (job.max_parallel >= 0 && jobs_seen.insert(it->job_key).second) {
        cluster.jobs.push_back({job.id, job.max_parallel, job.running});
      }
    }
    if (tasks.empty()) continue;
    if (std::any_of(tasks.begin(), tasks.end(),
                    [](const auto& t) { return t.number_of_instances > 1; })) {
      for (const NodeInfo* n : full_nodes) cluster.nodes.push_back(snapshot_of(*n, pool));
    }
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
      if (a.node_ids.size() > 1) {
        bool all_known = true;
        for (const auto& id : a.node_ids) {
          NodeInfo* member = find_node(id);
          if (!member) {
            all_known = false;
            break;
          }
          d.members.push_back({member->id, node_url(pool.id, member->id), member->ip_address,
                               member->hostname, member->exec_port, member->network});
        }
        if (!all_known) continue;
        d.exec_token = auth::new_bearer_token("exec");
      }
      remove_pending(job.id, d.item.task_id);
      // Reserved until the commit says otherwise.
      if (d.members.empty()) {
        node->used_slots += d.item.required_slots;
      } else {
        for (const auto& m : d.members) find_node(m.node_id)->used_slots += d.item.required_slots;
      }
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
    if (code == placement::ReasonCode::InsufficientSlots ||
        code == placement::ReasonCode::ReservedForGang)
      continue;
    const auto& [job_key, seq] = refs[report.task_index];
    JobInfo& job = jobs_[job_key];
    auto item_it = job.pending.find(seq);
    if (item_it == job.pending.end()) continue;
    std::string message = placement::describe(report.reason);
    if (item_it->second.pending_reason == message) continue;
    item_it->second.pending_reason = message;
    writes.push_back({job.id, item_it->second.task_id, std::string(placement::to_string(code)),
                      std::move(message)});
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

namespace {

// A node record being edited by a dispatch commit.
struct NodeEdit {
  store::Record record;
  json body;
  bool dirty = false;
};

std::vector<protocol::EnvironmentSetting> settings_of(const json& list) {
  std::vector<protocol::EnvironmentSetting> out;
  if (!list.is_array()) return out;
  for (const auto& s : list) {
    if (s.is_object()) out.push_back({s.value("name", ""), s.value("value", "")});
  }
  return out;
}

// Commits one multi-instance dispatch: all N nodes or none (each must be up and have the slot,
// checked on a copy of its record first), the task running on the primary's node with its
// subtasks and transport recorded, and one assignment per instance. False only when the store
// refused a write; d.committed says whether the gang was placed.
template <class D, class EditOf>
bool commit_gang(store::Writer& w, D& d, store::Record& task_record, EditOf& edit_of, TimePoint now,
                 const std::string& account_url) {
  auto task = json::parse(task_record.body, nullptr, false);
  if (!task.is_object()) return true;
  const std::string& job_id = task_record.parent;
  const std::string& task_id = task_record.id;
  const std::string primary = next_attempt_id(task, job_id, task_record.seq);
  const std::string task_url = account_url + "/jobs/" + job_id + "/tasks/" + task_id;
  std::vector<json> bodies;
  std::vector<std::string> ids;
  std::vector<DispatchTarget> targets;
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    const auto& m = d.members[k];
    NodeEdit* node = edit_of(d.pool_id, m.node_id);
    if (node == nullptr || !node->body.is_object()) return true;
    const std::string state = node->body.value("state", "");
    if (state != "idle" && state != "running") return true;
    json body = node->body;
    AttemptOnNode on_node{instance_attempt_id(primary, static_cast<int>(k)),
                          job_id,
                          task_id,
                          task_url,
                          d.item.required_slots,
                          static_cast<int>(k)};
    if (!add_attempt(body, on_node, d.slots_per_node, now)) return true;
    bodies.push_back(std::move(body));
    ids.push_back(on_node.attempt_id);
    targets.push_back({d.pool_id, m.node_id, m.url});
  }
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    NodeEdit* node = edit_of(d.pool_id, d.members[k].node_id);
    node->body = std::move(bodies[k]);
    node->dirty = true;
  }
  json running = dispatch_task(std::move(task), job_id, targets[0], primary, now);
  if (!write_gang_rows(w, job_id, task_id, targets, ids, now)) return false;

  std::vector<MpiNodeNet> nets;
  for (const auto& m : d.members) nets.push_back(mpi_node_net_of(m.node_id, m.address, m.network));
  std::vector<protocol::EnvironmentSetting> user_environment = settings_of(d.job_environment);
  for (auto& s : settings_of(running.value("environmentSettings", json::array()))) {
    user_environment.push_back(std::move(s));
  }
  const MpiTransport transport = choose_mpi_transport(nets, user_environment);
  running["openbatch"]["mpiTransport"] = transport.to_json();

  protocol::Assignment base = make_assignment(running, job_id, d.job_environment, primary);
  if (auto refs = running.find("applicationPackageReferences");
      refs != running.end() && !refs->empty()) {
    packages::ResolvedPackages packages = packages::resolve_packages(w, *refs);
    for (const auto& [app, version] : packages.unresolved) {
      packages.packages.push_back({app, version, std::string(64, '0'), 0, false});
    }
    base.application_packages = std::move(packages.packages);
  }
  protocol::MultiInstance gang;
  gang.number_of_instances = static_cast<int>(d.members.size());
  if (auto mi = running.find("multiInstanceSettings"); mi != running.end() && mi->is_object()) {
    gang.coordination_command_line = mi->value("coordinationCommandLine", "");
    if (auto files = mi->find("commonResourceFiles"); files != mi->end() && files->is_array()) {
      gang.common_resource_files = *files;
    }
  }
  for (const auto& m : d.members) {
    gang.host_list.push_back(m.address);
    gang.node_list.push_back(m.node_id);
    gang.host_names.push_back(m.hostname.empty() ? m.address : m.hostname);
    gang.exec_ports.push_back(m.exec_port);
  }
  gang.exec_token = d.exec_token;
  gang.transport = transport.kind;
  d.instances.clear();
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    protocol::Assignment a = base;
    a.attempt_id = ids[k];
    if (k > 0) a.resource_files = json::array();  // the primary alone downloads resourceFiles
    gang.subtask_id = static_cast<int>(k);
    gang.transport_environment = k < transport.environment.size()
                                     ? transport.environment[k]
                                     : std::vector<protocol::EnvironmentSetting>{};
    a.multi_instance = gang;
    d.instances.push_back(std::move(a));
  }
  task_record.state = "running";
  task_record.body = dump_entity(running);
  if (!w.update(Table::Tasks, task_record)) return false;
  d.attempt_id = primary;
  d.committed = true;
  d.still_pending = false;
  return true;
}

}  // namespace

void Engine::commit_dispatches(std::vector<Dispatch> dispatches) {
  auto batch = std::make_shared<std::vector<Dispatch>>(std::move(dispatches));
  const TimePoint now = clock_.now();
  std::map<std::string, std::string> urls;  // node id -> url
  for (const auto& d : *batch) urls.emplace(d.node_id, node_url(d.pool_id, d.node_id));
  const std::string account_url = config_.account_url;
  store_.submit(
      [batch, now, urls, account_url](store::Writer& w) {
        std::map<std::string, NodeEdit> nodes;
        auto edit_of = [&](const std::string& pool_id, const std::string& node_id) -> NodeEdit* {
          auto node_it = nodes.find(node_id);
          if (node_it == nodes.end()) {
            auto record = w.get(Table::Nodes, pool_id, node_id);
            if (!record) return nullptr;
            NodeEdit edit{std::move(*record), json(), false};
            edit.body = json::parse(edit.record.body, nullptr, false);
            node_it = nodes.emplace(node_id, std::move(edit)).first;
          }
          return &node_it->second;
        };
        for (auto& d : *batch) {
          d.committed = false;
          d.still_pending = false;
          auto task_record = w.get(Table::Tasks, d.job_id, d.item.task_id);
          if (!task_record || task_record->state != "active") continue;
          d.still_pending = true;
          if (!d.members.empty()) {
            auto outcome = commit_gang(w, d, *task_record, edit_of, now, account_url);
            if (!outcome) return false;
            continue;
          }
          NodeEdit* node_edit = edit_of(d.pool_id, d.node_id);
          if (!node_edit) continue;
          NodeEdit& node = *node_edit;
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
          json running = dispatch_task(std::move(task), job_id,
                                       {d.pool_id, d.node_id, urls.at(d.node_id)}, attempt_id, now);
          d.assignment = make_assignment(running, job_id, d.job_environment, attempt_id);
          if (auto refs = running.find("applicationPackageReferences");
              refs != running.end() && !refs->empty()) {
            packages::ResolvedPackages packages = packages::resolve_packages(w, *refs);
            // Azure fails such a task with a pre-processing error: the null digest, which no
            // package has, makes the agent's install fail with the reference in the message.
            for (const auto& [app, version] : packages.unresolved) {
              spdlog::warn("task {}/{}: application package {} {} is not available", job_id,
                           task_record->id, app, version);
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
            if (ok && d.committed && !d.members.empty()) {
              GangInfo& gang = gangs_[d.attempt_id];
              gang = GangInfo{d.job_id, d.item.task_id, {}, {}, {}, false, false, 0};
              for (std::size_t k = 0; k < d.instances.size(); ++k) {
                const std::string& id = d.instances[k].attempt_id;
                const std::string& member_id = d.members[k].node_id;
                AttemptInfo info{d.job_id, d.item.task_id, member_id, d.item.required_slots,
                                 false,    false,          -1,        {}};
                info.subtask_id = static_cast<int>(k);
                info.gang = d.attempt_id;
                attempts_[id] = info;
                gang.attempt_ids.push_back(id);
                gang.node_ids.push_back(member_id);
                gang.coordinated.push_back(false);
                gang.live++;
                if (NodeInfo* member = find_node(member_id)) {
                  member->attempts.insert(id);
                  if (member->state == "idle") member->state = "running";
                  to_send[member_id].push_back(std::move(d.instances[k]));
                }
              }
              attempt_of_task_[task_key(d.job_id, d.item.task_id)] = d.attempt_id;
              spdlog::info("task {}/{}: {} instances placed, primary on {}", d.job_id,
                           d.item.task_id, d.members.size(), d.node_id);
              continue;
            }
            if (ok && d.committed) {
              attempts_[d.attempt_id] = AttemptInfo{
                  d.job_id, d.item.task_id, d.node_id, d.item.required_slots, false, false, -1, {}};
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
            if (d.members.empty()) {
              if (node) node->used_slots -= d.item.required_slots;
            } else {
              for (const auto& m : d.members) {
                if (NodeInfo* member = find_node(m.node_id))
                  member->used_slots -= d.item.required_slots;
              }
            }
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
