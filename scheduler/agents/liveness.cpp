#include "scheduler/agents/liveness.hpp"

#include "scheduler/agents/agent_channel.hpp"
#include "scheduler/domain/node_record.hpp"

#include <spdlog/spdlog.h>

namespace openbatch::agents {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using cluster::NodeInfo;
using nlohmann::json;
using store::Table;

void Liveness::write_node_state(const std::string& node_id, NodeState state) {
  NodeInfo* node = ctx_.model.find_node(node_id);
  if (!node) return;
  node->state = state;
  const TimePoint now = ctx_.clock.now();
  const std::string pool_id = node->pool_id;
  ctx_.store.submit(
      [pool_id, node_id, state, now](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!settle_node_state(node_json, state, now)) return false;
        record->state = node_json.value("state", record->state);
        record->body = cluster::dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      nullptr);
}

void Liveness::check() {
  const auto now = ctx_.clock.steady_now();
  const auto interval = std::chrono::seconds(ctx_.config.heartbeat_interval_seconds);
  // The scan visits every node; at 10,000 nodes it was a tenth of the idle cost when run on
  // every tick. A quarter interval between scans adds at most that to a detection that waits
  // unknown_after_heartbeats whole intervals (with 1 s heartbeats: every tick, as before).
  // After a scan that changed a state the next tick scans again, so unknown -> offline does
  // not wait for the clock to move.
  if (last_scan_ && now - *last_scan_ < interval / 4) return;
  last_scan_ = now;
  const auto unknown_after = interval * ctx_.config.unknown_after_heartbeats;
  const auto offline_after = interval * ctx_.config.offline_after_heartbeats;
  std::vector<std::string> to_unknown, to_offline;
  for (auto& [id, node] : ctx_.model.nodes) {
    if (node.leaving) continue;
    const auto silent = now - node.last_seen;
    const bool set_up_or_setting_up =
        node_is_up(node.state) || node.state == NodeState::WaitingForStartTask ||
        node.state == NodeState::StartTaskFailed || node.state == NodeState::Unusable;
    if (set_up_or_setting_up && silent > unknown_after) to_unknown.push_back(id);
    if ((node.state == NodeState::Unknown || node.state == NodeState::Starting) &&
        silent > offline_after)
      to_offline.push_back(id);
  }
  for (const auto& id : to_unknown) {
    spdlog::warn("node {}: no frame for {} heartbeats: unknown", id,
                 ctx_.config.unknown_after_heartbeats);
    write_node_state(id, NodeState::Unknown);
  }
  for (const auto& id : to_offline) mark_offline(id);
  if (!to_unknown.empty() || !to_offline.empty()) last_scan_.reset();
}

void Liveness::mark_offline(const std::string& id) {
  NodeInfo* node = ctx_.model.find_node(id);
  if (!node) return;
  spdlog::warn("node {}: lost: offline, requeueing {} attempts", id, node->attempts.size());
  if (node->link) node->link->close(1001, "the node was marked offline");
  node->link.reset();
  node->linked = false;
  if (node->attempts.empty()) {
    write_node_state(id, NodeState::Offline);
  } else {
    ends_.requeue(id, std::vector<std::string>(node->attempts.begin(), node->attempts.end()),
                  NodeState::Offline, std::nullopt);
  }
}

}  // namespace openbatch::agents
