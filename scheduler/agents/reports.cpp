#include "scheduler/agents/reports.hpp"

#include "scheduler/agents/agent_channel.hpp"
#include "scheduler/cluster/gang_rows.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/store/disk_space.hpp"
#include "scheduler/store/task_failures.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

namespace openbatch::agents {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::NodeInfo;
using nlohmann::json;
using store::Table;

namespace {

// A report batch whose commit found the disk full waits this long before it is tried again.
constexpr std::chrono::milliseconds kReportRetryDelay{500};

// A node record being edited by the batch.
struct NodeEdit {
  store::Record record;
  json body;
  bool dirty = false;
};

// What the report did to its task, for the node's attempt list.
struct TaskEffect {
  std::string task_state{to_string(TaskState::Completed)};
  json execution_info = json::object();
  std::optional<bool> succeeded;
};

// Moves the task on when the report names its current attempt. A gang instance's report: a
// subtask's outcome goes to its own row, and whichever instance ends first while the task
// still runs decides the task (batch-api.md 11); the others find it decided. False only when
// the store refused a write.
bool apply_to_task(store::Writer& w, QueuedReport& r, TimePoint now, TaskEffect& effect) {
  r.task_changed = false;
  auto task_record = w.get(Table::Tasks, r.info.job_id, r.info.task_id);
  const bool instance = !r.info.gang.empty();
  const std::string& current = instance ? r.info.gang : r.report.attempt_id;
  if (instance && r.info.subtask_id > 0 &&
      cluster::record_subtask_completion(w, r.info.job_id, r.info.task_id, r.info.subtask_id,
                                         r.report.attempt_id, r.report,
                                         now) == cluster::RowChange::Failed)
    return false;
  if (!task_record || task_record->state != to_string(TaskState::Running)) return true;
  json task = json::parse(task_record->body, nullptr, false);
  if (task.is_object() && current_attempt_id(task) == current) {
    const protocol::Report decisive =
        instance && r.info.subtask_id > 0
            ? gang_failure_report(r.report, r.info.subtask_id, r.node_id)
            : r.report;
    CompletionOutcome completion = CompletionOutcome::Completed;
    json next = complete_task(std::move(task), decisive, now, completion);
    r.retried = completion == CompletionOutcome::Retried;
    task_record->state = next.value("state", std::string(to_string(TaskState::Completed)));
    task_record->body = cluster::dump_entity(next);
    if (!w.update(Table::Tasks, *task_record)) return false;
    r.task_changed = true;
    r.task_seq = task_record->seq;
    effect.task_state = task_record->state;
    effect.execution_info = next.value("executionInfo", json::object());
    effect.succeeded = decisive.result == protocol::TaskResult::Success;
    if (!r.retried && !*effect.succeeded &&
        !store::mark_task_failed(w, r.info.job_id, r.info.task_id))
      return false;
    r.task = std::move(next);
  }
  return true;
}

bool commit_reports(store::Writer& w, std::vector<QueuedReport>& batch,
                    std::map<std::string, NodeState>& node_states, TimePoint now) {
  std::map<std::string, NodeEdit> nodes;
  for (auto& r : batch) {
    TaskEffect effect;
    if (!apply_to_task(w, r, now, effect)) return false;
    auto node_it = nodes.find(r.node_id);
    if (node_it == nodes.end()) {
      auto record = w.get(Table::Nodes, r.pool_id, r.node_id);
      if (!record) continue;
      NodeEdit edit{std::move(*record), json(), false};
      edit.body = json::parse(edit.record.body, nullptr, false);
      node_it = nodes.emplace(r.node_id, std::move(edit)).first;
    }
    NodeEdit& node = node_it->second;
    if (node.body.is_object() && remove_attempt(node.body, r.report.attempt_id, effect.succeeded,
                                                effect.task_state, effect.execution_info, now)) {
      node.dirty = true;
    }
  }
  for (auto& [id, node] : nodes) {
    if (node.dirty) {
      node.record.state = node.body.value("state", node.record.state);
      node.record.body = cluster::dump_entity(node.body);
      if (!w.update(Table::Nodes, node.record)) return false;
    }
    if (const auto state = parse_node_state(node.record.state)) node_states[id] = *state;
  }
  return true;
}

}  // namespace

void Reports::handle(NodeInfo& node, protocol::Report report, uint64_t seq) {
  if (report.coordinated) {
    ctx_.wiring->handle_coordinated(node, std::move(report), seq);
    return;
  }
  if (report.state != protocol::AttemptState::Completed) {
    ctx_.wiring->ack(node, {seq});
    return;
  }
  auto it = ctx_.model.attempts.find(report.attempt_id);
  if (it == ctx_.model.attempts.end() || it->second.node_id != node.id) {
    // Stale (requeued, removed, or another node's): acked and ignored (agent-protocol.md 4.4).
    ctx_.wiring->ack(node, {seq});
    return;
  }
  cluster::AttemptInfo& attempt = it->second;
  if (attempt.finishing) {
    // Already being applied (a resent report): try again once that commit is in; it then
    // finds nothing to do and acks.
    asio::post(ctx_.strand, [this, node_id = node.id, report = std::move(report), seq]() mutable {
      if (NodeInfo* n = ctx_.model.find_node(node_id)) handle(*n, std::move(report), seq);
    });
    return;
  }
  attempt.finishing = true;
  QueuedReport queued;
  queued.node_id = node.id;
  queued.pool_id = node.pool_id;
  queued.seq = seq;
  queued.report = std::move(report);
  queued.info = attempt;
  batch_.push_back(std::move(queued));
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    asio::post(ctx_.strand, [this] { flush(); });
  }
}

void Reports::flush() {
  flush_scheduled_ = false;
  if (batch_.empty()) return;
  auto batch = std::make_shared<std::vector<QueuedReport>>(std::move(batch_));
  batch_.clear();
  auto node_states = std::make_shared<std::map<std::string, NodeState>>();
  const TimePoint now = ctx_.clock.now();
  ctx_.store.submit(
      [batch, node_states, now](store::Writer& w) {
        return commit_reports(w, *batch, *node_states, now);
      },
      [this, batch, node_states](const Status& status) {
        const bool disk_full = !status && store::is_insufficient_disk_space(status.error());
        asio::post(ctx_.strand, [this, batch, node_states, ok = status.has_value(), disk_full] {
          if (disk_full) {
            retry_later(batch);
          } else if (!ok) {
            fail_links(batch);
          } else {
            apply_committed(batch, node_states);
          }
        });
      });
}

// The disk filled (the store is releasing its reserve): retry the same reports shortly instead
// of closing the links, which would only make the agents reconnect and resend them.
void Reports::retry_later(const Batch& batch) {
  for (const auto& r : *batch) {
    if (auto again = ctx_.model.attempts.find(r.report.attempt_id);
        again != ctx_.model.attempts.end()) {
      again->second.finishing = false;
    }
  }
  spdlog::warn("engine: {} reports wait for disk space; retrying in {} ms", batch->size(),
               kReportRetryDelay.count());
  auto timer = std::make_shared<asio::steady_timer>(ctx_.strand, kReportRetryDelay);
  timer->async_wait([this, timer, batch](const boost::system::error_code& ec) {
    if (ec || ctx_.stopped) return;
    // Through handle() again: an attempt that went meanwhile (its task deleted) is acked and
    // dropped there.
    for (auto& r : *batch) {
      if (NodeInfo* n = ctx_.model.find_node(r.node_id)) handle(*n, std::move(r.report), r.seq);
    }
  });
}

// Not durable: the agents keep their reports and resend them on their next link.
void Reports::fail_links(const Batch& batch) {
  std::set<std::string> nodes;
  for (const auto& r : *batch) {
    if (auto again = ctx_.model.attempts.find(r.report.attempt_id);
        again != ctx_.model.attempts.end()) {
      again->second.finishing = false;
    }
    nodes.insert(r.node_id);
  }
  for (const auto& id : nodes) {
    NodeInfo* node = ctx_.model.find_node(id);
    if (node && node->link) node->link->close(1011, "the scheduler could not record a report");
  }
  spdlog::error("engine: {} reports could not be committed; their agents will resend them",
                batch->size());
}

void Reports::apply_committed(const Batch& batch, const NodeStates& node_states) {
  std::map<std::string, std::vector<uint64_t>> acks;
  for (auto& r : *batch) {
    acks[r.node_id].push_back(r.seq);
    // The task has its outcome: the gang's other instances stop.
    if (!r.info.gang.empty() && r.task_changed)
      ctx_.wiring->end_gang(r.info.gang, protocol::CancelReason::TaskCompleted);
    ends_.forget(r.report.attempt_id, r.info,
                 cluster::RequeuedTask{r.task_changed && r.retried, r.task_seq, std::move(r.task)});
  }
  for (auto& [node_id, seqs] : acks) {
    NodeInfo* node = ctx_.model.find_node(node_id);
    if (!node) continue;
    if (auto st = node_states->find(node_id); st != node_states->end() && node_is_up(node->state))
      node->state = st->second;
    ctx_.wiring->ack(*node, std::move(seqs));
  }
  ctx_.wiring->schedule_round();
}

}  // namespace openbatch::agents
