#include "scheduler/agents/attempt_ends.hpp"

#include "common/time.hpp"
#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/job_transitions.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/domain/task_execution.hpp"

#include <boost/asio/post.hpp>

#include <memory>

namespace openbatch::agents {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::AttemptInfo;
using cluster::NodeInfo;
using cluster::RequeuedTask;
using nlohmann::json;
using store::Table;

struct AttemptEnds::Requeue {
  std::string node_id;
  std::string pool_id;
  std::vector<std::string> ids;
  std::vector<AttemptInfo> infos;
  std::optional<NodeState> node_state;
  std::optional<protocol::CancelReason> cancel;
  TimePoint now;
  std::vector<RequeuedTask> results;  // filled by the commit
};

namespace {

// The requeue's store op: each task whose attempt is current goes back to active, and the
// node's attempt list (and state) is written once.
bool commit_requeue(store::Writer& w, const std::string& pool_id, const std::string& node_id,
                    const std::vector<std::string>& ids, const std::vector<AttemptInfo>& infos,
                    const std::optional<NodeState>& node_state, TimePoint now,
                    std::vector<RequeuedTask>& results) {
  auto node_record = w.get(Table::Nodes, pool_id, node_id);
  json node_json = node_record ? json::parse(node_record->body, nullptr, false) : json();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    RequeuedTask& requeued = results[i];
    // A gang instance lost means the whole task goes back, through its primary's id.
    const std::string& current = infos[i].gang.empty() ? ids[i] : infos[i].gang;
    if (!cluster::requeue_if_current(w, infos[i].job_id, infos[i].task_id, current, now, requeued))
      return false;
    const json execution_info =
        requeued.changed ? requeued.task.value("executionInfo", json::object()) : json::object();
    if (node_json.is_object()) {
      remove_attempt(node_json, ids[i], std::nullopt,
                     to_string(requeued.changed ? TaskState::Active : TaskState::Completed),
                     execution_info, now);
    }
  }
  if (node_record && node_json.is_object()) {
    if (node_state) set_node_state(node_json, *node_state, now);
    node_record->state = node_json.value("state", node_record->state);
    node_record->body = cluster::dump_entity(node_json);
    if (!w.update(Table::Nodes, *node_record)) return false;
  }
  return true;
}

}  // namespace

void AttemptEnds::requeue(const std::string& node_id, std::vector<std::string> attempt_ids,
                          std::optional<NodeState> node_state,
                          std::optional<protocol::CancelReason> cancel) {
  NodeInfo* node = ctx_.model.find_node(node_id);
  if (!node) return;
  auto r = std::make_shared<Requeue>();
  for (const auto& id : attempt_ids) {
    auto it = ctx_.model.attempts.find(id);
    if (it == ctx_.model.attempts.end() || it->second.finishing) continue;
    it->second.finishing = true;
    r->infos.push_back(it->second);
    r->ids.push_back(id);
  }
  if (node_state) node->state = *node_state;
  r->node_id = node_id;
  r->pool_id = node->pool_id;
  r->node_state = node_state;
  r->cancel = cancel;
  r->now = ctx_.clock.now();
  r->results.resize(r->ids.size());
  ctx_.store.submit(
      [r](store::Writer& w) {
        return commit_requeue(w, r->pool_id, r->node_id, r->ids, r->infos, r->node_state, r->now,
                              r->results);
      },
      [this, r](const Status& status) {
        asio::post(ctx_.strand, [this, r, ok = status.has_value()] { on_requeued(*r, ok); });
      });
}

void AttemptEnds::on_requeued(const Requeue& r, bool ok) {
  for (std::size_t i = 0; i < r.ids.size(); ++i) {
    if (!ok) {
      if (auto it = ctx_.model.attempts.find(r.ids[i]); it != ctx_.model.attempts.end())
        it->second.finishing = false;
      continue;
    }
    NodeInfo* target = ctx_.model.find_node(r.node_id);
    if (target && r.cancel && target->linked)
      ctx_.wiring->send(*target, protocol::Cancel{r.ids[i], *r.cancel});
    if (!r.infos[i].gang.empty() && r.results[i].changed)
      ctx_.wiring->end_gang(r.infos[i].gang, protocol::CancelReason::Requeued);
    forget(r.ids[i], r.infos[i], r.results[i]);
  }
  ctx_.wiring->schedule_round();
}

void AttemptEnds::cancel(const std::string& attempt_id, protocol::CancelReason reason) {
  auto it = ctx_.model.attempts.find(attempt_id);
  if (it == ctx_.model.attempts.end()) return;
  // Stopping a gang's primary (terminate, delete, job end) stops every instance -- unless an
  // instance's own report is deciding the task right now (the change feed then shows our own
  // commit): end_gang() stops the others once it is durable.
  if (it->second.subtask_id == 0 && !ctx_.model.gang_deciding(it->second.gang))
    ctx_.wiring->cancel_gang(it->second.gang, reason, attempt_id);
  if (it->second.finishing || it->second.cancel_sent) return;
  NodeInfo* node = ctx_.model.find_node(it->second.node_id);
  if (!node || !node->linked) return;  // sent on the node's next hello (reconciliation)
  it->second.cancel_sent = true;
  ctx_.wiring->send(*node, protocol::Cancel{attempt_id, reason});
}

void AttemptEnds::cancel_of_job(const std::string& job_id, protocol::CancelReason reason) {
  const std::string key = cluster::lower(job_id);
  std::vector<std::string> ids;
  for (const auto& [attempt_id, a] : ctx_.model.attempts) {
    if (cluster::lower(a.job_id) == key) ids.push_back(attempt_id);
  }
  for (const auto& id : ids) cancel(id, reason);
}

void AttemptEnds::forget(const std::string& attempt_id, const AttemptInfo& info,
                         const RequeuedTask& task) {
  cluster::JobInfo* job = ctx_.model.drop_attempt(attempt_id, info);
  if (!job) return;
  if (task.changed) ctx_.model.readd_pending(*job, cluster::pending_item_of(task.task, task.seq));
  maybe_finish_job(cluster::lower(job->id));
}

namespace {

// The job's termination, decided in the store: tasks added since the engine looked keep the
// job open.
bool commit_job_finish(store::Writer& w, const std::string& job_id, TimePoint now,
                       const std::string& etag) {
  auto record = w.get(Table::Jobs, "", job_id);
  if (!record || parse_job_state(record->state) != JobState::Active) return false;
  for (const TaskState open : {TaskState::Active, TaskState::Running, TaskState::Preparing}) {
    if (w.count(Table::Tasks, record->id, to_string(open)) > 0) return false;
  }
  auto job_json = json::parse(record->body, nullptr, false);
  if (!end_job_when_all_tasks_complete(job_json, now)) return false;
  job_json["eTag"] = etag;
  job_json["lastModified"] = format_iso8601(now);
  record->state = job_json.value("state", record->state);
  record->body = cluster::dump_entity(job_json);
  return w.update(Table::Jobs, *record);
}

}  // namespace

void AttemptEnds::maybe_finish_job(const std::string& job_key) {
  auto it = ctx_.model.jobs.find(job_key);
  if (it == ctx_.model.jobs.end()) return;
  cluster::JobInfo& job = it->second;
  if (!job.terminate_when_done || job.state != JobState::Active || !job.pending.empty() ||
      job.running > 0)
    return;
  ctx_.store.submit([job_id = job.id, now = ctx_.clock.now(), etag = ctx_.next_etag()](
                        store::Writer& w) { return commit_job_finish(w, job_id, now, etag); },
                    nullptr);
}

}  // namespace openbatch::agents
