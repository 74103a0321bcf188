#include "scheduler/dispatch/gangs.hpp"

#include "scheduler/cluster/gang_rows.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/domain/task_execution.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <vector>

namespace openbatch::dispatch {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::GangInfo;
using cluster::NodeInfo;
using nlohmann::json;
using store::Table;

void Gangs::load_states(store::Reader& reader) {
  for (auto& [primary, gang] : ctx_.model.gangs) {
    auto record = reader.get(Table::Tasks, gang.job_id, gang.task_id);
    json task = record ? json::parse(record->body, nullptr, false) : json();
    if (!record || record->state != to_string(TaskState::Running) || !task.is_object() ||
        current_attempt_id(task) != primary) {
      gang.ended = true;
      continue;
    }
    const std::vector<bool> coordinated =
        cluster::read_gang_coordination(reader, gang.job_id, gang.task_id, primary);
    const std::size_t n = std::max(coordinated.size(), gang.attempt_ids.size());
    gang.attempt_ids.resize(n);
    gang.node_ids.resize(n);
    gang.coordinated.resize(n, false);
    for (std::size_t k = 0; k < coordinated.size(); ++k) {
      if (gang.attempt_ids[k].empty())
        gang.attempt_ids[k] = instance_attempt_id(primary, static_cast<int>(k));
      gang.coordinated[k] = coordinated[k];
    }
  }
}

void Gangs::cancel(const std::string& primary, protocol::CancelReason reason,
                   const std::string& except) {
  auto it = ctx_.model.gangs.find(primary);
  if (it == ctx_.model.gangs.end()) return;
  for (const auto& id : it->second.attempt_ids) {
    if (id.empty() || id == except) continue;
    auto a = ctx_.model.attempts.find(id);
    if (a == ctx_.model.attempts.end() || a->second.finishing || a->second.cancel_sent) continue;
    NodeInfo* node = ctx_.model.find_node(a->second.node_id);
    if (!node || !node->linked) continue;  // its next hello reconciles
    a->second.cancel_sent = true;
    ctx_.wiring->send(*node, protocol::Cancel{id, reason});
  }
}

void Gangs::end(const std::string& primary, protocol::CancelReason reason) {
  auto it = ctx_.model.gangs.find(primary);
  if (it == ctx_.model.gangs.end() || it->second.ended) return;
  it->second.ended = true;
  cancel(primary, reason);
}

void Gangs::handle_coordinated(NodeInfo& node, protocol::Report report, uint64_t seq) {
  auto it = ctx_.model.attempts.find(report.attempt_id);
  if (it == ctx_.model.attempts.end() || it->second.node_id != node.id || it->second.gang.empty()) {
    ctx_.wiring->ack(node, {seq});  // stale or not a gang instance: nothing to record
    return;
  }
  const cluster::AttemptInfo& attempt = it->second;
  auto gang_it = ctx_.model.gangs.find(attempt.gang);
  if (gang_it == ctx_.model.gangs.end() || gang_it->second.ended) {
    ctx_.wiring->ack(node, {seq});
    return;
  }
  const auto k = static_cast<std::size_t>(attempt.subtask_id);
  if (k < gang_it->second.coordinated.size() && gang_it->second.coordinated[k]) {
    ctx_.wiring->ack(node, {seq});
    maybe_start_application(gang_it->second);
    return;
  }
  ctx_.store.submit(
      [job_id = attempt.job_id, task_id = attempt.task_id, primary = attempt.gang,
       id = report.attempt_id, k = attempt.subtask_id, now = ctx_.clock.now()](store::Writer& w) {
        auto record = w.get(Table::Tasks, job_id, task_id);
        if (!record || record->state != to_string(TaskState::Running)) return true;
        auto task = json::parse(record->body, nullptr, false);
        if (!task.is_object() || current_attempt_id(task) != primary) return true;
        // The instance's own row, not the task: the same cost for any size of gang.
        return cluster::record_coordinated(w, job_id, task_id, k, id, now) !=
               cluster::RowChange::Failed;
      },
      [this, node_id = node.id, primary = attempt.gang, k, seq](const Status& status) {
        asio::post(ctx_.strand, [this, node_id, primary, k, seq, ok = status.has_value()] {
          on_coordinated(node_id, primary, k, seq, ok);
        });
      });
}

void Gangs::on_coordinated(const std::string& node_id, const std::string& primary, std::size_t k,
                           uint64_t seq, bool ok) {
  NodeInfo* target = ctx_.model.find_node(node_id);
  if (!ok) {
    // Not durable: the agent resends the report on its next link.
    if (target && target->link)
      ctx_.wiring->close_link(*target, 1011, "the scheduler could not record a report");
    return;
  }
  if (target) ctx_.wiring->ack(*target, {seq});
  auto g = ctx_.model.gangs.find(primary);
  if (g == ctx_.model.gangs.end()) return;
  if (k < g->second.coordinated.size()) g->second.coordinated[k] = true;
  maybe_start_application(g->second);
}

void Gangs::maybe_start_application(GangInfo& gang) {
  if (gang.ended || gang.attempt_ids.empty() || gang.coordinated.size() < gang.attempt_ids.size())
    return;
  for (bool c : gang.coordinated) {
    if (!c) return;
  }
  const std::string& primary = gang.attempt_ids[0];
  auto a = ctx_.model.attempts.find(primary);
  if (a == ctx_.model.attempts.end() || a->second.finishing) return;
  NodeInfo* node = ctx_.model.find_node(a->second.node_id);
  if (!node || !node->linked) return;  // resent after its hello
  if (!gang.started) {
    spdlog::info("task {}/{}: all {} instances coordinated; starting the application command",
                 gang.job_id, gang.task_id, gang.attempt_ids.size());
  }
  gang.started = true;
  ctx_.wiring->send(*node, protocol::StartApplication{primary});
}

void Gangs::resend_start_applications(NodeInfo& node) {
  for (const auto& id : std::vector<std::string>(node.attempts.begin(), node.attempts.end())) {
    auto a = ctx_.model.attempts.find(id);
    if (a == ctx_.model.attempts.end() || a->second.gang.empty()) continue;
    auto g = ctx_.model.gangs.find(a->second.gang);
    if (g == ctx_.model.gangs.end()) continue;
    if (g->second.ended) {
      if (a->second.finishing || a->second.cancel_sent || !node.linked) continue;
      a->second.cancel_sent = true;
      ctx_.wiring->send(node, protocol::Cancel{id, protocol::CancelReason::TaskCompleted});
    } else if (a->second.subtask_id == 0) {
      maybe_start_application(g->second);
    }
  }
}

}  // namespace openbatch::dispatch
