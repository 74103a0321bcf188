#include "scheduler/engine/model_feed.hpp"

#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>

namespace openbatch::engine {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using cluster::JobInfo;
using cluster::lower;
using cluster::NodeInfo;
using cluster::SteadyTime;
using cluster::task_key;
using nlohmann::json;
using store::Table;

// ---- loading ----

namespace {

template <class F>
void for_each_record(store::Reader& reader, Table table, std::optional<std::string> state, F&& f) {
  store::ListQuery q{table, std::nullopt, std::move(state), 0, 1000};
  for (;;) {
    auto rows = reader.list(q);
    for (auto& r : rows) {
      q.after_seq = r.seq;
      f(r);
    }
    if (rows.size() < q.limit) break;
  }
}

}  // namespace

void ModelFeed::load() {
  ctx_.loading = true;  // no reconcile on a half-loaded model (it would see too few nodes)
  auto reader = ctx_.store.reader();
  for_each_record(*reader, Table::Pools, std::nullopt,
                  [&](const store::Record& r) { apply_pool(r); });
  for_each_record(*reader, Table::Jobs, std::nullopt,
                  [&](const store::Record& r) { apply_job(r); });
  for_each_record(*reader, Table::Nodes, std::nullopt,
                  [&](const store::Record& r) { apply_node(r); });
  gangs_.load_states(*reader);
  std::size_t pending = 0;
  for_each_record(*reader, Table::Tasks, std::string(to_string(TaskState::Active)),
                  [&](const store::Record& r) {
                    apply_task(r);
                    ++pending;
                  });
  const auto& model = ctx_.model;
  spdlog::info("engine: loaded {} pools, {} jobs, {} nodes, {} pending tasks, {} running attempts",
               model.pools.size(), model.jobs.size(), model.nodes.size(), pending,
               model.attempts.size());
  ctx_.loading = false;
  ctx_.wiring->schedule_round();
  provisioner_.reconcile_pools();
}

// ---- the change feed ----

void ModelFeed::apply_changes(std::vector<store::Change> changes) {
  if (ctx_.stopped) return;
  for (auto& change : changes) {
    switch (change.kind) {
      case store::Change::Kind::Upsert:
        if (change.table == Table::Pools) apply_pool(change.record);
        if (change.table == Table::Jobs) apply_job(change.record);
        if (change.table == Table::Tasks) apply_task(change.record);
        if (change.table == Table::Nodes) apply_node(change.record);
        break;
      case store::Change::Kind::Erase:
        if (change.table == Table::Pools) erase_pool(change.record.id);
        if (change.table == Table::Jobs) erase_job(change.record.id);
        if (change.table == Table::Tasks) erase_task(change.record.parent, change.record.id);
        // A removal of ours finishes in its own completion, which still needs the node.
        if (change.table == Table::Nodes && !provisioner_.removing(change.record.id))
          erase_node(change.record.id);
        break;
      case store::Change::Kind::EraseChildren:
        if (change.table == Table::Tasks) erase_tasks_of_job(change.record.parent);
        break;
    }
  }
}

void ModelFeed::apply_pool(const store::Record& record) {
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  cluster::PoolInfo info = cluster::pool_info_of(body, ctx_.config.default_provisioner);
  const std::string key = lower(info.id);
  auto& pools = ctx_.model.pools;
  auto it = pools.find(key);
  const bool changed = it == pools.end() || it->second.target_nodes != info.target_nodes ||
                       it->second.state != info.state;
  pools[key] = std::move(info);
  if (changed) provisioner_.schedule_reconcile(key);
  ctx_.wiring->schedule_round();
}

void ModelFeed::erase_pool(const std::string& id) { ctx_.model.pools.erase(lower(id)); }

void ModelFeed::apply_job(const store::Record& record) {
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  const std::string key = lower(record.id);
  JobInfo& job = ctx_.model.jobs[key];
  const std::optional<JobState> old_state = job.state;
  const bool was_known = !job.id.empty();
  const std::string old_pool = job.pool_key;
  if (job.queued && job.priority != body.value("priority", 0)) ctx_.model.unqueue_job(job);
  if (job.queued) {
    // The pool may change while disabled; re-key defensively whenever it differs.
    JobInfo probe;
    cluster::read_job_facts(body, probe);
    if (probe.pool_key != old_pool) ctx_.model.unqueue_job(job);
  }
  cluster::read_job_facts(body, job);
  const bool eligible = job.state == JobState::Active;
  if (eligible && !job.queued) ctx_.model.queue_job(job);
  if (!eligible && job.queued) ctx_.model.unqueue_job(job);
  if (!was_known || old_state != job.state) apply_job_state(job, body);
  ends_.maybe_finish_job(key);
  ctx_.wiring->schedule_round();
}

// A job's new state reaches its running attempts: terminated or deleted jobs cancel them, a
// disabled job requeues or terminates them (its disableTasks option) or lets them finish.
void ModelFeed::apply_job_state(JobInfo& job, const json& body) {
  if (job.state && job_is_ending(*job.state)) {
    ends_.cancel_of_job(job.id, protocol::CancelReason::JobTerminated);
  } else if (job.state == JobState::Deleting) {
    ends_.cancel_of_job(job.id, protocol::CancelReason::TaskDeleted);
  } else if (job.state == JobState::Disabling) {
    std::string option = "requeue";
    if (auto ext = body.find("openbatch"); ext != body.end() && ext->is_object()) {
      option = ext->value("disableTasks", "requeue");
    }
    if (option == "terminate") ends_.cancel_of_job(job.id, protocol::CancelReason::JobTerminated);
    if (option == "requeue") requeue_attempts_of_job(lower(job.id));
  }
}

void ModelFeed::requeue_attempts_of_job(const std::string& job_key) {
  std::map<std::string, std::vector<std::string>> by_node;
  for (const auto& [attempt_id, a] : ctx_.model.attempts) {
    if (lower(a.job_id) == job_key && !a.finishing) by_node[a.node_id].push_back(attempt_id);
  }
  for (auto& [node_id, ids] : by_node) {
    ends_.requeue(node_id, std::move(ids), std::nullopt, protocol::CancelReason::Requeued);
  }
}

void ModelFeed::erase_job(const std::string& id) {
  auto it = ctx_.model.jobs.find(lower(id));
  if (it == ctx_.model.jobs.end()) return;
  erase_tasks_of_job(id);
  ctx_.model.unqueue_job(it->second);
  ctx_.model.jobs.erase(it);
}

void ModelFeed::apply_task(const store::Record& record) {
  const std::string key = task_key(record.parent, record.id);
  auto& model = ctx_.model;
  const std::optional<TaskState> state = parse_task_state(record.state);
  if (state == TaskState::Active) {
    // An active task has no current attempt: one still mapped is finishing (our own retry or
    // requeue, whose completion re-adds the task anyway) or stale (terminated, then
    // reactivated before its agent reported). Either way the task waits for placement again.
    model.attempt_of_task.erase(key);
    if (model.pending_seq.count(key)) return;
    JobInfo* job = model.find_job(record.parent);
    if (!job) return;
    // A task an API route just added comes with its entity parsed (store::Record::entity).
    json parsed;
    if (!record.entity) parsed = json::parse(record.body, nullptr, false);
    const json& body = record.entity ? *record.entity : parsed;
    if (!body.is_object()) return;
    int64_t seq = record.seq;
    if (seq == 0) {
      // An update by an API route (reactivate) carries no seq; read it once.
      auto reader = ctx_.store.reader();
      auto current = reader->get(Table::Tasks, record.parent, record.id);
      if (!current || current->state != to_string(TaskState::Active)) return;
      seq = current->seq;
    }
    model.add_pending(*job, cluster::pending_item_of(body, seq));
    ctx_.wiring->schedule_round();
    return;
  }
  model.remove_pending(record.parent, record.id);
  if (state == TaskState::Completed) {
    auto it = model.attempt_of_task.find(key);
    if (it != model.attempt_of_task.end())
      ends_.cancel(it->second, protocol::CancelReason::TaskTerminated);
  }
}

void ModelFeed::erase_task(const std::string& job_id, const std::string& task_id) {
  ctx_.model.remove_pending(job_id, task_id);
  auto it = ctx_.model.attempt_of_task.find(task_key(job_id, task_id));
  if (it != ctx_.model.attempt_of_task.end())
    ends_.cancel(it->second, protocol::CancelReason::TaskDeleted);
}

void ModelFeed::erase_tasks_of_job(const std::string& job_id) {
  if (JobInfo* job = ctx_.model.find_job(job_id)) {
    std::vector<std::string> ids;
    for (const auto& [seq, item] : job->pending) ids.push_back(item.task_id);
    for (const auto& id : ids) ctx_.model.remove_pending(job_id, id);
  }
  ends_.cancel_of_job(job_id, protocol::CancelReason::TaskDeleted);
}

namespace {

// A node the model does not have yet, from its record.
NodeInfo node_info_of(const store::Record& record, const json& body, SteadyTime now) {
  NodeInfo node;
  node.id = record.id;
  node.pool_id = record.parent;
  node.state = node_state(body).value_or(NodeState::Creating);
  node.scheduling_enabled = body.value("schedulingState", "enabled") == "enabled";
  node.ip_address = body.value("ipAddress", "");
  node.last_seen = now;
  auto ext = body.find("openbatch");
  if (ext == body.end() || !ext->is_object()) return node;
  node.provisioner = ext->value("provisioner", "static");
  node.inventory_hash = ext->value("inventoryHash", "");
  node.setup_state = ext->value("setupState", "");
  if (auto g = ext->find("setupGeneration"); g != ext->end() && g->is_number_unsigned()) {
    node.setup_generation = std::max<uint64_t>(1, g->get<uint64_t>());
  }
  if (auto inv = ext->find("inventory"); inv != ext->end()) {
    auto facts = cluster::inventory_facts_of(*inv);
    node.gpus = std::move(facts.gpus);
    node.cuda_driver_version = facts.cuda_driver_version;
    node.infiniband_active_ports = facts.infiniband_active_ports;
    node.hostname = std::move(facts.hostname);
    node.network = std::move(facts.network);
  }
  return node;
}

}  // namespace

void ModelFeed::apply_node(const store::Record& record) {
  auto it = ctx_.model.nodes.find(record.id);
  if (it != ctx_.model.nodes.end()) {
    // Most node writes are the engine's own (attempt lists, states): the model has them
    // already. What others write is a removal (removenodes marks the node leavingpool), and
    // the record's state column says so without parsing the body.
    NodeInfo& node = it->second;
    if (parse_node_state(record.state) == NodeState::LeavingPool && !node.leaving) {
      node.state = NodeState::LeavingPool;
      provisioner_.remove_node(node.id);
    }
    return;
  }
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  NodeInfo node = node_info_of(record, body, ctx_.clock.steady_now());
  adopt_attempts(node, body);
  it = ctx_.model.nodes.emplace(record.id, std::move(node)).first;
  const std::string pool_key = lower(it->second.pool_id);
  ctx_.model.members.add(pool_key, record.id);
  if (it->second.state == NodeState::LeavingPool) provisioner_.remove_node(record.id);
  provisioner_.schedule_reconcile(pool_key);
}

void ModelFeed::erase_node(const std::string& node_id) {
  if (NodeInfo* gone = ctx_.model.find_node(node_id)) {
    ctx_.model.members.remove(lower(gone->pool_id), gone->id);
    provisioner_.schedule_reconcile(lower(gone->pool_id));
  }
  ctx_.model.nodes.erase(node_id);
}

// The attempts the node's record lists (after a restart, or a node the feed just brought).
void ModelFeed::adopt_attempts(NodeInfo& node, const json& body) {
  for (const auto& a : attempts_of(body)) {
    node.attempts.insert(a.attempt_id);
    node.used_slots += a.slots;
    cluster::AttemptInfo info{a.job_id, a.task_id, node.id, a.slots, false, false, -1, {}};
    if (a.subtask_id >= 0) ctx_.model.adopt_instance(info, a.attempt_id, a.subtask_id);
    ctx_.model.attempts[a.attempt_id] = info;
    // A gang counts once against its job, through its primary.
    if (a.subtask_id > 0) continue;
    ctx_.model.attempt_of_task[task_key(a.job_id, a.task_id)] = a.attempt_id;
    if (JobInfo* job = ctx_.model.find_job(a.job_id)) job->running++;
  }
}

}  // namespace openbatch::engine
