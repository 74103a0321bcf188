#include "scheduler/agents/node_updates.hpp"

#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/packages/resolution.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::agents {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::NodeInfo;
using nlohmann::json;
using store::Table;

protocol::NodeSetup NodeUpdates::setup_for(const NodeInfo& node) {
  protocol::NodeSetup setup;
  setup.generation = node.setup_generation;
  const cluster::PoolInfo* pool = ctx_.model.find_pool(node.pool_id);
  if (!pool) return setup;
  setup.start_task = pool->start_task;
  setup.gpu_driver_version = pool->gpu_driver_version;
  if (pool->package_refs.is_array() && !pool->package_refs.empty()) {
    // Rare (once per link), so a read here is fine; the API made sure the versions existed.
    auto reader = ctx_.store.reader();
    packages::ResolvedPackages resolved = packages::resolve_packages(*reader, pool->package_refs);
    for (const auto& [app, version] : resolved.unresolved) {
      spdlog::warn("pool {}: application package {} {} is not available; node {} goes without it",
                   pool->id, app, version, node.id);
    }
    setup.packages = std::move(resolved.packages);
  }
  return setup;
}

void NodeUpdates::handle_node_status(NodeInfo& node, protocol::NodeStatus status) {
  if (status.generation < node.setup_generation) return;  // about a setup since replaced
  const std::string setup_state(protocol::to_string(status.state));
  const bool became_ready = setup_state == "ready" && node.setup_state != "ready";
  node.setup_state = setup_state;
  // A remote-launch server started after welcome (the pool's setting arrives there) is
  // announced here; hello announces one already running.
  if (status.exec_port) node.exec_port = *status.exec_port;
  if (!node.leaving) node.state = resting_node_state(setup_state, !node.attempts.empty());
  spdlog::info("node {}: setup {} (generation {})", node.id, setup_state, status.generation);
  json start_task;
  if (const cluster::PoolInfo* pool = ctx_.model.find_pool(node.pool_id)) {
    start_task = pool->start_task;
  }
  const TimePoint now = ctx_.clock.now();
  ctx_.store.submit(
      [pool_id = node.pool_id, node_id = node.id, setup_state, status = std::move(status),
       start_task, now](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!node_json.is_object()) return false;
        apply_node_status(node_json, setup_state, status.start_task_info, status.errors, start_task,
                          status.generation, now);
        record->state = node_json.value("state", record->state);
        record->body = cluster::dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      nullptr);
  if (became_ready) ctx_.wiring->schedule_round();
}

void NodeUpdates::handle_inventory(NodeInfo& node, protocol::InventoryUpdate update, uint64_t seq) {
  auto facts = cluster::inventory_facts_of(update.inventory);
  node.gpus = facts.gpus;
  node.cuda_driver_version = facts.cuda_driver_version;
  node.infiniband_active_ports = facts.infiniband_active_ports;
  node.hostname = std::move(facts.hostname);
  node.network = std::move(facts.network);
  node.inventory_hash = update.inventory_hash;
  if (node.provisioner != "local" && !facts.address.empty()) node.ip_address = facts.address;
  const std::string node_id = node.id;
  ctx_.store.submit(
      [pool_id = node.pool_id, node_id, update = std::move(update),
       address = node.ip_address](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!node_json.is_object()) return false;
        node_json["openbatch"]["inventory"] = update.inventory;
        node_json["openbatch"]["inventoryHash"] = update.inventory_hash;
        if (!address.empty()) node_json["ipAddress"] = address;
        record->body = cluster::dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      [this, node_id, seq](const Status& status) {
        if (!status) return;
        asio::post(ctx_.strand, [this, node_id, seq] {
          if (NodeInfo* target = ctx_.model.find_node(node_id)) ctx_.wiring->ack(*target, {seq});
        });
      });
}

}  // namespace openbatch::agents
