// Engine: construction, loading the model from the store, and the change feed.
#include "scheduler/nodes/engine.hpp"

#include "common/auth/bearer_token.hpp"
#include "common/time.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/packages/access.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using nlohmann::json;
using store::Table;

std::string task_key(std::string_view job_id, std::string_view task_id) {
  std::string key = lower(job_id);
  key += '\n';
  key += lower(task_id);
  return key;
}

Engine::Engine(asio::io_context& ioc, store::Store& store, const Clock& clock, EngineConfig config,
               std::function<std::string()> next_etag, std::unique_ptr<LocalAgents> local_agents)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      store_(store),
      clock_(clock),
      config_(std::move(config)),
      next_etag_(std::move(next_etag)),
      local_agents_(std::move(local_agents)),
      timer_(strand_) {}

Engine::~Engine() = default;

void Engine::start() {
  // The feed is installed before loading so nothing committed in between is missed; its
  // handlers queue behind load() on the strand and are idempotent against what load() read.
  store_.set_change_observer([this](std::vector<store::Change>&& changes) {
    asio::post(strand_, [this, changes = std::move(changes)]() mutable {
      apply_changes(std::move(changes));
    });
  });
  asio::post(strand_, [this] {
    load();
    tick();
  });
}

void Engine::quiesce() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Engine::stop(bool stop_agents) {
  // The io_context has stopped: no handler runs concurrently, so the model is ours to touch.
  stopped_ = true;
  store_.set_change_observer(nullptr);
  for (auto& [id, node] : nodes_) {
    if (node.link) node.link->drop();  // the agent sees its link end now, and can exit at once
    node.link.reset();
    node.linked = false;
  }
  if (stop_agents && local_agents_) local_agents_->stop_all();
}

NodeInfo* Engine::find_node(const std::string& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

JobInfo* Engine::find_job(const std::string& id) {
  auto it = jobs_.find(lower(id));
  return it == jobs_.end() ? nullptr : &it->second;
}

std::string Engine::node_url(const std::string& pool_id, const std::string& node_id) const {
  return config_.account_url + "/pools/" + pool_id + "/nodes/" + node_id;
}

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

void Engine::load() {
  loading_ = true;  // no reconcile on a half-loaded model (it would see too few nodes)
  auto reader = store_.reader();
  for_each_record(*reader, Table::Pools, std::nullopt,
                  [&](const store::Record& r) { apply_pool(r); });
  for_each_record(*reader, Table::Jobs, std::nullopt,
                  [&](const store::Record& r) { apply_job(r); });
  for_each_record(*reader, Table::Nodes, std::nullopt,
                  [&](const store::Record& r) { apply_node(r); });
  load_gang_states(*reader);
  std::size_t pending = 0;
  for_each_record(*reader, Table::Tasks, std::string("active"), [&](const store::Record& r) {
    apply_task(r);
    ++pending;
  });
  spdlog::info("engine: loaded {} pools, {} jobs, {} nodes, {} pending tasks, {} running attempts",
               pools_.size(), jobs_.size(), nodes_.size(), pending, attempts_.size());
  loading_ = false;
  schedule_round();
  reconcile_pools();
}

// ---- the change feed ----

void Engine::apply_changes(std::vector<store::Change> changes) {
  if (stopped_) return;
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
        if (change.table == Table::Nodes && !removing_nodes_.count(change.record.id)) {
          if (NodeInfo* gone = find_node(change.record.id)) {
            members_.remove(lower(gone->pool_id), gone->id);
            schedule_reconcile(lower(gone->pool_id));
          }
          nodes_.erase(change.record.id);
        }
        break;
      case store::Change::Kind::EraseChildren:
        if (change.table == Table::Tasks) erase_tasks_of_job(change.record.parent);
        break;
    }
  }
}

void Engine::apply_pool(const store::Record& record) {
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  PoolInfo info = pool_info_of(body, config_.default_provisioner);
  const std::string key = lower(info.id);
  auto it = pools_.find(key);
  const bool changed = it == pools_.end() || it->second.target_nodes != info.target_nodes ||
                       it->second.state != info.state;
  pools_[key] = std::move(info);
  if (changed) schedule_reconcile(key);
  schedule_round();
}

void Engine::erase_pool(const std::string& id) { pools_.erase(lower(id)); }

void Engine::apply_job(const store::Record& record) {
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  const std::string key = lower(record.id);
  JobInfo& job = jobs_[key];
  const std::string old_state = job.state;
  const bool was_known = !job.id.empty();
  const int old_priority = job.priority;
  const std::string old_pool = job.pool_key;
  const bool was_queued = job.queued;
  if (was_queued && (old_priority != body.value("priority", 0))) unqueue_job(job);
  if (job.queued) {
    // The pool may change while disabled; re-key defensively whenever it differs.
    JobInfo probe;
    read_job_facts(body, probe);
    if (probe.pool_key != old_pool) unqueue_job(job);
  }
  read_job_facts(body, job);
  const bool eligible = job.state == "active";
  if (eligible && !job.queued) queue_job(job);
  if (!eligible && job.queued) unqueue_job(job);
  if (!was_known || old_state != job.state) {
    if (job.state == "terminating" || job.state == "completed") {
      cancel_attempts_of_job(job.id, protocol::CancelReason::JobTerminated);
    } else if (job.state == "deleting") {
      cancel_attempts_of_job(job.id, protocol::CancelReason::TaskDeleted);
    } else if (job.state == "disabling") {
      std::string option = "requeue";
      if (auto ext = body.find("openbatch"); ext != body.end() && ext->is_object()) {
        option = ext->value("disableTasks", "requeue");
      }
      if (option == "terminate")
        cancel_attempts_of_job(job.id, protocol::CancelReason::JobTerminated);
      if (option == "requeue") {
        std::map<std::string, std::vector<std::string>> by_node;
        for (const auto& [attempt_id, a] : attempts_) {
          if (lower(a.job_id) == key && !a.finishing) by_node[a.node_id].push_back(attempt_id);
        }
        for (auto& [node_id, ids] : by_node) {
          requeue_attempts(node_id, std::move(ids), std::nullopt, protocol::CancelReason::Requeued);
        }
      }
    }
  }
  maybe_finish_job(key);
  schedule_round();
}

void Engine::erase_job(const std::string& id) {
  auto it = jobs_.find(lower(id));
  if (it == jobs_.end()) return;
  erase_tasks_of_job(id);
  unqueue_job(it->second);
  jobs_.erase(it);
}

void Engine::apply_task(const store::Record& record) {
  const std::string key = task_key(record.parent, record.id);
  if (record.state == "active") {
    // An active task has no current attempt: one still mapped is finishing (our own retry or
    // requeue, whose completion re-adds the task anyway) or stale (terminated, then
    // reactivated before its agent reported). Either way the task waits for placement again.
    attempt_of_task_.erase(key);
    if (pending_seq_.count(key)) return;
    JobInfo* job = find_job(record.parent);
    if (!job) return;
    auto body = json::parse(record.body, nullptr, false);
    if (!body.is_object()) return;
    int64_t seq = record.seq;
    if (seq == 0) {
      // An update by an API route (reactivate) carries no seq; read it once.
      auto reader = store_.reader();
      auto current = reader->get(Table::Tasks, record.parent, record.id);
      if (!current || current->state != "active") return;
      seq = current->seq;
    }
    add_pending(*job, pending_item_of(body, seq));
    schedule_round();
    return;
  }
  remove_pending(record.parent, record.id);
  if (record.state == "completed") {
    auto it = attempt_of_task_.find(key);
    if (it != attempt_of_task_.end())
      cancel_attempt(it->second, protocol::CancelReason::TaskTerminated);
  }
}

void Engine::erase_task(const std::string& job_id, const std::string& task_id) {
  remove_pending(job_id, task_id);
  auto it = attempt_of_task_.find(task_key(job_id, task_id));
  if (it != attempt_of_task_.end()) cancel_attempt(it->second, protocol::CancelReason::TaskDeleted);
}

void Engine::erase_tasks_of_job(const std::string& job_id) {
  JobInfo* job = find_job(job_id);
  if (job) {
    std::vector<std::string> ids;
    for (const auto& [seq, item] : job->pending) ids.push_back(item.task_id);
    for (const auto& id : ids) remove_pending(job_id, id);
  }
  cancel_attempts_of_job(job_id, protocol::CancelReason::TaskDeleted);
}

void Engine::apply_node(const store::Record& record) {
  auto it = nodes_.find(record.id);
  if (it != nodes_.end()) {
    // Most node writes are the engine's own (attempt lists, states): the model has them
    // already. What others write is a removal (removenodes marks the node leavingpool), and
    // the record's state column says so without parsing the body.
    NodeInfo& node = it->second;
    if (record.state == "leavingpool" && !node.leaving) {
      node.state = record.state;
      remove_node(node.id);
    }
    return;
  }
  auto body = json::parse(record.body, nullptr, false);
  if (!body.is_object()) return;
  {
    NodeInfo node;
    node.id = record.id;
    node.pool_id = record.parent;
    node.state = body.value("state", "creating");
    node.scheduling_enabled = body.value("schedulingState", "enabled") == "enabled";
    node.ip_address = body.value("ipAddress", "");
    node.last_seen = clock_.steady_now();
    if (auto ext = body.find("openbatch"); ext != body.end() && ext->is_object()) {
      node.provisioner = ext->value("provisioner", "static");
      node.inventory_hash = ext->value("inventoryHash", "");
      node.setup_state = ext->value("setupState", "");
      if (auto g = ext->find("setupGeneration"); g != ext->end() && g->is_number_unsigned()) {
        node.setup_generation = std::max<uint64_t>(1, g->get<uint64_t>());
      }
      if (auto inv = ext->find("inventory"); inv != ext->end()) {
        auto facts = inventory_facts_of(*inv);
        node.gpus = std::move(facts.gpus);
        node.cuda_driver_version = facts.cuda_driver_version;
        node.infiniband_active_ports = facts.infiniband_active_ports;
        node.hostname = std::move(facts.hostname);
        node.network = std::move(facts.network);
      }
    }
    for (const auto& a : attempts_of(body)) {
      node.attempts.insert(a.attempt_id);
      node.used_slots += a.slots;
      AttemptInfo info{a.job_id, a.task_id, node.id, a.slots, false, false, -1, {}};
      if (a.subtask_id >= 0) adopt_instance(info, a.attempt_id, a.subtask_id);
      attempts_[a.attempt_id] = info;
      // A gang counts once against its job, through its primary.
      if (a.subtask_id > 0) continue;
      attempt_of_task_[task_key(a.job_id, a.task_id)] = a.attempt_id;
      if (JobInfo* job = find_job(a.job_id)) job->running++;
    }
    it = nodes_.emplace(record.id, std::move(node)).first;
    members_.add(lower(it->second.pool_id), record.id);
    if (it->second.state == "leavingpool") remove_node(record.id);
    schedule_reconcile(lower(it->second.pool_id));
  }
}

// ---- pending tasks ----

void Engine::add_pending(JobInfo& job, PendingItem item) {
  const std::string key = task_key(job.id, item.task_id);
  if (pending_seq_.count(key)) return;
  pending_seq_[key] = item.seq;
  if (job.queued) queues_[job.pool_key].insert(QueueKey{-job.priority, item.seq, lower(job.id)});
  job.pending.emplace(item.seq, std::move(item));
}

void Engine::forget_attempt(const std::string& attempt_id, const AttemptInfo& info,
                            const RequeuedTask& task) {
  attempts_.erase(attempt_id);
  const std::string key = task_key(info.job_id, info.task_id);
  if (auto it = attempt_of_task_.find(key);
      it != attempt_of_task_.end() && it->second == attempt_id) {
    attempt_of_task_.erase(it);
  }
  if (NodeInfo* node = find_node(info.node_id); node && node->attempts.erase(attempt_id)) {
    node->used_slots -= info.slots;
  }
  if (!info.gang.empty()) forget_instance(info);
  JobInfo* job = find_job(info.job_id);
  if (!job) return;
  if (info.subtask_id <= 0) job->running--;
  if (task.changed) readd_pending(*job, pending_item_of(task.task, task.seq));
  maybe_finish_job(lower(job->id));
}

void Engine::readd_pending(JobInfo& job, PendingItem item) {
  // The feed may have announced the task active already and a round dispatched it again.
  if (attempt_of_task_.count(task_key(job.id, item.task_id))) return;
  add_pending(job, std::move(item));
}

void Engine::remove_pending(const std::string& job_id, const std::string& task_id) {
  const std::string key = task_key(job_id, task_id);
  auto it = pending_seq_.find(key);
  if (it == pending_seq_.end()) return;
  const int64_t seq = it->second;
  pending_seq_.erase(it);
  JobInfo* job = find_job(job_id);
  if (!job) return;
  if (job->queued) {
    auto q = queues_.find(job->pool_key);
    if (q != queues_.end()) q->second.erase(QueueKey{-job->priority, seq, lower(job->id)});
  }
  job->pending.erase(seq);
}

void Engine::queue_job(JobInfo& job) {
  auto& queue = queues_[job.pool_key];
  const std::string key = lower(job.id);
  for (const auto& [seq, item] : job.pending) queue.insert(QueueKey{-job.priority, seq, key});
  job.queued = true;
}

void Engine::unqueue_job(JobInfo& job) {
  if (!job.queued) return;
  auto q = queues_.find(job.pool_key);
  if (q != queues_.end()) {
    for (const auto& [seq, item] : job.pending) q->second.erase(QueueKey{-job.priority, seq, ""});
  }
  job.queued = false;
}

// ---- cancels and job completion ----

void Engine::cancel_attempt(const std::string& attempt_id, protocol::CancelReason reason) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;
  // Stopping a gang's primary (terminate, delete, job end) stops every instance -- unless an
  // instance's own report is deciding the task right now (the change feed then shows our own
  // commit): end_gang() stops the others once it is durable.
  if (it->second.subtask_id == 0 && !gang_deciding(it->second.gang))
    cancel_gang(it->second.gang, reason, attempt_id);
  if (it->second.finishing || it->second.cancel_sent) return;
  NodeInfo* node = find_node(it->second.node_id);
  if (!node || !node->linked) return;  // sent on the node's next hello (reconciliation)
  it->second.cancel_sent = true;
  send(*node, protocol::Cancel{attempt_id, reason});
}

void Engine::cancel_attempts_of_job(const std::string& job_id, protocol::CancelReason reason) {
  const std::string key = lower(job_id);
  std::vector<std::string> ids;
  for (const auto& [attempt_id, a] : attempts_) {
    if (lower(a.job_id) == key) ids.push_back(attempt_id);
  }
  for (const auto& id : ids) cancel_attempt(id, reason);
}

void Engine::maybe_finish_job(const std::string& job_key) {
  auto it = jobs_.find(job_key);
  if (it == jobs_.end()) return;
  JobInfo& job = it->second;
  if (!job.terminate_when_done || job.state != "active" || !job.pending.empty() || job.running > 0)
    return;
  const std::string job_id = job.id;
  const TimePoint now = clock_.now();
  const std::string etag = next_etag_();
  store_.submit(
      [job_id, now, etag](store::Writer& w) {
        auto record = w.get(Table::Jobs, "", job_id);
        if (!record || record->state != "active") return false;
        // The store has the last word: tasks added since the engine looked keep the job open.
        if (w.count(Table::Tasks, record->id, "active") +
                w.count(Table::Tasks, record->id, "running") +
                w.count(Table::Tasks, record->id, "preparing") >
            0) {
          return false;
        }
        auto job_json = json::parse(record->body, nullptr, false);
        if (!job_json.is_object() || job_json.value("onAllTasksComplete", "") != "terminatejob")
          return false;
        const std::string t = format_iso8601(now);
        job_json["previousState"] = "active";
        job_json["previousStateTransitionTime"] = job_json.value("stateTransitionTime", t);
        job_json["state"] = "terminating";
        job_json["stateTransitionTime"] = t;
        job_json["executionInfo"]["terminateReason"] = "AllTasksComplete";
        job_json["eTag"] = etag;
        job_json["lastModified"] = t;
        record->state = "terminating";
        record->body = dump_entity(job_json);
        return w.update(Table::Jobs, *record);
      },
      nullptr);
}

// ---- authentication ----

std::optional<std::string> Engine::authenticate_node(std::string_view token) {
  const std::string node_id(auth::token_prefix(token));
  if (node_id.empty()) return std::nullopt;
  auto reader = store_.reader();
  if (!store::credential_matches(*reader, store::kNodeCredential, node_id, token))
    return std::nullopt;
  return node_id;
}

bool Engine::node_may_download(const std::string& node_id, std::string_view digest) {
  auto reader = store_.reader();
  return packages::node_may_download(*reader, node_id, digest);
}

}  // namespace openbatch::nodes
