// Engine: completion reports, applied exactly once (agent-protocol.md section 4). Reports that
// arrive together -- within one turn of the strand, from any number of links -- are applied
// in ONE store op: each task is moved on only if the report names its current attempt, each
// node's attempt list is read and written once for the batch, and every report is acked (one
// ack frame per node) only after the commit is durable.
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/nodes/gang_rows.hpp"
#include "scheduler/store/disk_space.hpp"
#include "scheduler/store/task_failures.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;

namespace {
// A report batch whose commit found the disk full waits this long before it is tried again.
constexpr std::chrono::milliseconds kReportRetryDelay{500};
}  // namespace
using nlohmann::json;
using store::Table;

void Engine::handle_report(NodeInfo& node, protocol::Report report, uint64_t seq) {
  if (report.coordinated) {
    handle_coordinated(node, std::move(report), seq);
    return;
  }
  if (report.state != protocol::AttemptState::Completed) {
    ack(node, {seq});
    return;
  }
  auto it = attempts_.find(report.attempt_id);
  if (it == attempts_.end() || it->second.node_id != node.id) {
    // Stale (requeued, removed, or another node's): acked and ignored (agent-protocol.md 4.4).
    ack(node, {seq});
    return;
  }
  AttemptInfo& attempt = it->second;
  if (attempt.finishing) {
    // Already being applied (a resent report): try again once that commit is in; it then
    // finds nothing to do and acks.
    asio::post(strand_, [this, node_id = node.id, report = std::move(report), seq]() mutable {
      if (NodeInfo* n = find_node(node_id)) handle_report(*n, std::move(report), seq);
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
  report_batch_.push_back(std::move(queued));
  if (!reports_flush_scheduled_) {
    reports_flush_scheduled_ = true;
    asio::post(strand_, [this] { flush_reports(); });
  }
}

void Engine::flush_reports() {
  reports_flush_scheduled_ = false;
  if (report_batch_.empty()) return;
  auto batch = std::make_shared<std::vector<QueuedReport>>(std::move(report_batch_));
  report_batch_.clear();
  auto node_states = std::make_shared<std::map<std::string, std::string>>();
  const TimePoint now = clock_.now();
  store_.submit(
      [batch, node_states, now](store::Writer& w) {
        struct NodeEdit {
          store::Record record;
          json body;
          bool dirty = false;
        };
        std::map<std::string, NodeEdit> nodes;
        for (auto& r : *batch) {
          r.task_changed = false;
          auto task_record = w.get(Table::Tasks, r.info.job_id, r.info.task_id);
          json execution_info = json::object();
          std::string task_state = "completed";
          std::optional<bool> succeeded;
          // A gang instance's report: a subtask's own entry takes its outcome, and whichever
          // instance ends first while the task still runs decides the task (batch-api.md 11).
          const bool instance = !r.info.gang.empty();
          const std::string& current = instance ? r.info.gang : r.report.attempt_id;
          // The subtask's outcome goes to its own row; the task is read only while it runs
          // (the first instance to end decides it, the others find it decided).
          if (instance && r.info.subtask_id > 0 &&
              record_subtask_completion(w, r.info.job_id, r.info.task_id, r.info.subtask_id,
                                        r.report.attempt_id, r.report, now) == RowChange::Failed)
            return false;
          if (task_record && task_record->state == "running") {
            json task = json::parse(task_record->body, nullptr, false);
            if (task.is_object() && current_attempt_id(task) == current) {
              const protocol::Report decisive =
                  instance && r.info.subtask_id > 0
                      ? gang_failure_report(r.report, r.info.subtask_id, r.node_id)
                      : r.report;
              CompletionOutcome completion = CompletionOutcome::Completed;
              json next = complete_task(std::move(task), decisive, now, completion);
              r.retried = completion == CompletionOutcome::Retried;
              task_record->state = next.value("state", "completed");
              task_record->body = dump_entity(next);
              if (!w.update(Table::Tasks, *task_record)) return false;
              r.task_changed = true;
              r.task_seq = task_record->seq;
              task_state = task_record->state;
              execution_info = next.value("executionInfo", json::object());
              succeeded = decisive.result == protocol::TaskResult::Success;
              if (!r.retried && !*succeeded &&
                  !store::mark_task_failed(w, r.info.job_id, r.info.task_id))
                return false;
              r.task = std::move(next);
            }
          }
          auto node_it = nodes.find(r.node_id);
          if (node_it == nodes.end()) {
            auto record = w.get(Table::Nodes, r.pool_id, r.node_id);
            if (!record) continue;
            NodeEdit edit{std::move(*record), json(), false};
            edit.body = json::parse(edit.record.body, nullptr, false);
            node_it = nodes.emplace(r.node_id, std::move(edit)).first;
          }
          NodeEdit& node = node_it->second;
          if (node.body.is_object() && remove_attempt(node.body, r.report.attempt_id, succeeded,
                                                      task_state, execution_info, now)) {
            node.dirty = true;
          }
        }
        for (auto& [id, node] : nodes) {
          if (node.dirty) {
            node.record.state = node.body.value("state", node.record.state);
            node.record.body = dump_entity(node.body);
            if (!w.update(Table::Nodes, node.record)) return false;
          }
          (*node_states)[id] = node.record.state;
        }
        return true;
      },
      [this, batch, node_states](const Status& status) {
        const bool disk_full = !status && store::is_insufficient_disk_space(status.error());
        asio::post(strand_, [this, batch, node_states, ok = status.has_value(), disk_full] {
          if (disk_full) {
            // The disk filled (the store is releasing its reserve): retry the same reports
            // shortly instead of closing the links, which would only make the agents
            // reconnect and resend them.
            for (const auto& r : *batch) {
              if (auto again = attempts_.find(r.report.attempt_id); again != attempts_.end()) {
                again->second.finishing = false;
              }
            }
            spdlog::warn("engine: {} reports wait for disk space; retrying in {} ms", batch->size(),
                         kReportRetryDelay.count());
            auto timer = std::make_shared<asio::steady_timer>(strand_, kReportRetryDelay);
            timer->async_wait([this, timer, batch](const boost::system::error_code& ec) {
              if (ec || stopped_) return;
              // Through handle_report again: an attempt that went meanwhile (its task
              // deleted) is acked and dropped there.
              for (auto& r : *batch) {
                if (NodeInfo* n = find_node(r.node_id))
                  handle_report(*n, std::move(r.report), r.seq);
              }
            });
            return;
          }
          if (!ok) {
            // Not durable: the agents keep their reports and resend them on their next link.
            std::set<std::string> nodes;
            for (const auto& r : *batch) {
              if (auto again = attempts_.find(r.report.attempt_id); again != attempts_.end()) {
                again->second.finishing = false;
              }
              nodes.insert(r.node_id);
            }
            for (const auto& id : nodes) {
              NodeInfo* node = find_node(id);
              if (node && node->link)
                node->link->close(1011, "the scheduler could not record a report");
            }
            spdlog::error(
                "engine: {} reports could not be committed; their agents will resend them",
                batch->size());
            return;
          }
          std::map<std::string, std::vector<uint64_t>> acks;
          for (auto& r : *batch) {
            acks[r.node_id].push_back(r.seq);
            // The task has its outcome: the gang's other instances stop.
            if (!r.info.gang.empty() && r.task_changed)
              end_gang(r.info.gang, protocol::CancelReason::TaskCompleted);
            forget_attempt(
                r.report.attempt_id, r.info,
                RequeuedTask{r.task_changed && r.retried, r.task_seq, std::move(r.task)});
          }
          for (auto& [node_id, seqs] : acks) {
            NodeInfo* node = find_node(node_id);
            if (!node) continue;
            if (auto st = node_states->find(node_id);
                st != node_states->end() && node_is_up(node->state)) {
              node->state = st->second;
            }
            ack(*node, std::move(seqs));
          }
          schedule_round();
        });
      });
}

}  // namespace openbatch::nodes
