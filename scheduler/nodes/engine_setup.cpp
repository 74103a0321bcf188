// Engine: node setup -- what a node does before it takes tasks (the pool's application
// packages, its start task, the pinned GPU driver), sent in welcome, and the agent's
// nodeStatus answers, which move the node through Azure's starting / waitingforstarttask /
// starttaskfailed / unusable / idle states.
#include "scheduler/domain/node_record.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/packages/resolution.hpp"

#include <spdlog/spdlog.h>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using nlohmann::json;
using store::Table;

protocol::NodeSetup Engine::node_setup_for(const NodeInfo& node) {
  protocol::NodeSetup setup;
  setup.generation = node.setup_generation;
  auto pool_it = pools_.find(lower(node.pool_id));
  if (pool_it == pools_.end()) return setup;
  const PoolInfo& pool = pool_it->second;
  setup.start_task = pool.start_task;
  setup.gpu_driver_version = pool.gpu_driver_version;
  if (pool.package_refs.is_array() && !pool.package_refs.empty()) {
    // Rare (once per link), so a read here is fine; the API made sure the versions existed.
    auto reader = store_.reader();
    packages::ResolvedPackages resolved = packages::resolve_packages(*reader, pool.package_refs);
    for (const auto& [app, version] : resolved.unresolved) {
      spdlog::warn("pool {}: application package {} {} is not available; node {} goes without it",
                   pool.id, app, version, node.id);
    }
    setup.packages = std::move(resolved.packages);
  }
  return setup;
}

void Engine::handle_node_status(NodeInfo& node, protocol::NodeStatus status) {
  if (status.generation < node.setup_generation) return;  // about a setup since replaced
  const std::string setup_state(protocol::to_string(status.state));
  const bool became_ready = setup_state == "ready" && node.setup_state != "ready";
  node.setup_state = setup_state;
  // A remote-launch server started after welcome (the pool's setting arrives there) is
  // announced here; hello announces one already running.
  if (status.exec_port) node.exec_port = *status.exec_port;
  if (!node.leaving) node.state = resting_state(setup_state, !node.attempts.empty());
  spdlog::info("node {}: setup {} (generation {})", node.id, setup_state, status.generation);
  json start_task;
  if (auto pool_it = pools_.find(lower(node.pool_id)); pool_it != pools_.end()) {
    start_task = pool_it->second.start_task;
  }
  const TimePoint now = clock_.now();
  const std::string pool_id = node.pool_id;
  const std::string node_id = node.id;
  store_.submit(
      [pool_id, node_id, setup_state, status = std::move(status), start_task,
       now](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!node_json.is_object()) return false;
        apply_node_status(node_json, setup_state, status.start_task_info, status.errors, start_task,
                          status.generation, now);
        record->state = node_json.value("state", record->state);
        record->body = dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      nullptr);
  if (became_ready) schedule_round();
}

}  // namespace openbatch::nodes
