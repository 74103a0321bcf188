// Provisioner: pools against their targets. Surplus nodes leave (idle ones first); a local pool
// short of nodes gets new ones, each with its own agent process (LocalAgents); a node that
// leaves has its attempts requeued and cancelled, its record and token removed and, when
// local, its agent stopped and its directories deleted. Static pools grow by joins (joins.hpp).
#pragma once

#include "scheduler/cluster/context.hpp"
#include "scheduler/provision/local_agents.hpp"

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace openbatch::provision {

class Provisioner {
 public:
  Provisioner(cluster::Context& ctx, std::unique_ptr<LocalAgents> local_agents)
      : ctx_(ctx), local_agents_(std::move(local_agents)) {}

  // Every pool (the tick, the end of load). An event marks its pool dirty instead
  // (schedule_reconcile), and the dirty ones are reconciled once per strand turn.
  void reconcile_pools();
  void schedule_reconcile(const std::string& pool_key);
  void remove_node(const std::string& node_id);
  // A removal of ours is in flight (its completion still needs the node in the model).
  bool removing(const std::string& node_id) const { return removing_nodes_.count(node_id) > 0; }
  // On every tick: reaps and restarts local agents.
  void poll_agents();
  // At the final stop: every local agent stops (SIGTERM, bounded wait).
  void stop_agents();

 private:
  struct Removal;
  void reconcile_dirty_pools();
  void reconcile_pool(const std::string& key, const cluster::PoolInfo& pool);
  void shrink(std::vector<cluster::NodeInfo*>& nodes, int target);
  void create_local_nodes(const cluster::PoolInfo& pool, int count);
  void on_created(const std::vector<std::pair<std::string, std::string>>& created,
                  const std::string& key, const std::string& pool_id, bool ok);
  void ensure_local_agent(const cluster::NodeInfo& node);
  void on_removed(const Removal& removal, bool ok);

  cluster::Context& ctx_;
  std::unique_ptr<LocalAgents> local_agents_;
  std::set<std::string> creating_pools_;      // local pools with a node creation in flight
  std::set<std::string> identity_in_flight_;  // local nodes getting a fresh token
  std::set<std::string> removing_nodes_;      // node removals in flight
  bool reconcile_scheduled_ = false;
};

}  // namespace openbatch::provision
