// Engine: multi-instance tasks after dispatch (batch-api.md section 11). Every instance runs
// its coordination command; each one that exits 0 sends a "coordinated" report, which is
// made durable on the instance's own row (gang_rows.hpp: coordinated, the subtask running)
// before it is acked. Once all N are coordinated the primary gets startApplication. Whichever
// instance ends first while the task runs decides the task (engine_reports.cpp); then end_gang()
// stops the rest. A lost instance requeues the task through its primary's id (engine_agents.cpp).
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/gang_rows.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using nlohmann::json;
using store::Table;

void Engine::adopt_instance(AttemptInfo& info, const std::string& attempt_id, int subtask_id) {
  info.subtask_id = subtask_id;
  if (subtask_id == 0) {
    info.gang = attempt_id;
  } else if (auto ref = parse_instance_attempt_id(attempt_id)) {
    info.gang = ref->primary;
  } else {
    info.subtask_id = -1;  // not an id we issue: treat it as a plain attempt
    return;
  }
  GangInfo& gang = gangs_[info.gang];
  gang.job_id = info.job_id;
  gang.task_id = info.task_id;
  const auto k = static_cast<std::size_t>(subtask_id);
  if (gang.attempt_ids.size() <= k) {
    gang.attempt_ids.resize(k + 1);
    gang.node_ids.resize(k + 1);
    gang.coordinated.resize(k + 1, false);
  }
  gang.attempt_ids[k] = attempt_id;
  gang.node_ids[k] = info.node_id;
  gang.live++;
}

// After a restart: a gang whose task no longer runs it has ended; the others' sizes and
// coordination come from their instance rows.
void Engine::load_gang_states(store::Reader& reader) {
  for (auto& [primary, gang] : gangs_) {
    auto record = reader.get(Table::Tasks, gang.job_id, gang.task_id);
    json task = record ? json::parse(record->body, nullptr, false) : json();
    if (!record || record->state != "running" || !task.is_object() ||
        current_attempt_id(task) != primary) {
      gang.ended = true;
      continue;
    }
    const std::vector<bool> coordinated =
        read_gang_coordination(reader, gang.job_id, gang.task_id, primary);
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

void Engine::forget_instance(const AttemptInfo& info) {
  auto it = gangs_.find(info.gang);
  if (it == gangs_.end()) return;
  if (it->second.live > 0) it->second.live--;
  if (it->second.live == 0) gangs_.erase(it);
}

void Engine::cancel_gang(const std::string& primary, protocol::CancelReason reason,
                         const std::string& except) {
  auto it = gangs_.find(primary);
  if (it == gangs_.end()) return;
  for (const auto& id : it->second.attempt_ids) {
    if (id.empty() || id == except) continue;
    auto a = attempts_.find(id);
    if (a == attempts_.end() || a->second.finishing || a->second.cancel_sent) continue;
    NodeInfo* node = find_node(a->second.node_id);
    if (!node || !node->linked) continue;  // its next hello reconciles
    a->second.cancel_sent = true;
    send(*node, protocol::Cancel{id, reason});
  }
}

void Engine::end_gang(const std::string& primary, protocol::CancelReason reason) {
  auto it = gangs_.find(primary);
  if (it == gangs_.end() || it->second.ended) return;
  it->second.ended = true;
  cancel_gang(primary, reason);
}

bool Engine::gang_deciding(const std::string& primary) const {
  auto it = gangs_.find(primary);
  if (it == gangs_.end()) return false;
  for (const auto& id : it->second.attempt_ids) {
    auto a = attempts_.find(id);
    if (a != attempts_.end() && a->second.finishing) return true;
  }
  return false;
}

void Engine::handle_coordinated(NodeInfo& node, protocol::Report report, uint64_t seq) {
  auto it = attempts_.find(report.attempt_id);
  if (it == attempts_.end() || it->second.node_id != node.id || it->second.gang.empty()) {
    ack(node, {seq});  // stale or not a gang instance: nothing to record
    return;
  }
  const AttemptInfo& attempt = it->second;
  auto gang_it = gangs_.find(attempt.gang);
  if (gang_it == gangs_.end() || gang_it->second.ended) {
    ack(node, {seq});
    return;
  }
  const auto k = static_cast<std::size_t>(attempt.subtask_id);
  if (k < gang_it->second.coordinated.size() && gang_it->second.coordinated[k]) {
    ack(node, {seq});
    maybe_start_application(gang_it->second);
    return;
  }
  const TimePoint now = clock_.now();
  store_.submit(
      [job_id = attempt.job_id, task_id = attempt.task_id, primary = attempt.gang,
       id = report.attempt_id, k = attempt.subtask_id, now](store::Writer& w) {
        auto record = w.get(Table::Tasks, job_id, task_id);
        if (!record || record->state != "running") return true;
        auto task = json::parse(record->body, nullptr, false);
        if (!task.is_object() || current_attempt_id(task) != primary) return true;
        // The instance's own row, not the task: the same cost for any size of gang.
        return record_coordinated(w, job_id, task_id, k, id, now) != RowChange::Failed;
      },
      [this, node_id = node.id, primary = attempt.gang, k, seq](const Status& status) {
        asio::post(strand_, [this, node_id, primary, k, seq, ok = status.has_value()] {
          NodeInfo* target = find_node(node_id);
          if (!ok) {
            // Not durable: the agent resends the report on its next link.
            if (target && target->link)
              target->link->close(1011, "the scheduler could not record a report");
            return;
          }
          if (target) ack(*target, {seq});
          auto g = gangs_.find(primary);
          if (g == gangs_.end()) return;
          if (k < g->second.coordinated.size()) g->second.coordinated[k] = true;
          maybe_start_application(g->second);
        });
      });
}

void Engine::maybe_start_application(GangInfo& gang) {
  if (gang.ended || gang.attempt_ids.empty() || gang.coordinated.size() < gang.attempt_ids.size())
    return;
  for (bool c : gang.coordinated) {
    if (!c) return;
  }
  const std::string& primary = gang.attempt_ids[0];
  auto a = attempts_.find(primary);
  if (a == attempts_.end() || a->second.finishing) return;
  NodeInfo* node = find_node(a->second.node_id);
  if (!node || !node->linked) return;  // resent after its hello
  if (!gang.started) {
    spdlog::info("task {}/{}: all {} instances coordinated; starting the application command",
                 gang.job_id, gang.task_id, gang.attempt_ids.size());
  }
  gang.started = true;
  send(*node, protocol::StartApplication{primary});
}

// After a hello: primaries that may start get startApplication again (idempotent there), and
// instances of gangs that ended meanwhile (or before a scheduler restart) are stopped.
void Engine::resend_start_applications(NodeInfo& node) {
  for (const auto& id : std::vector<std::string>(node.attempts.begin(), node.attempts.end())) {
    auto a = attempts_.find(id);
    if (a == attempts_.end() || a->second.gang.empty()) continue;
    auto g = gangs_.find(a->second.gang);
    if (g == gangs_.end()) continue;
    if (g->second.ended) {
      if (a->second.finishing || a->second.cancel_sent || !node.linked) continue;
      a->second.cancel_sent = true;
      send(node, protocol::Cancel{id, protocol::CancelReason::TaskCompleted});
    } else if (a->second.subtask_id == 0) {
      maybe_start_application(g->second);
    }
  }
}

}  // namespace openbatch::nodes
