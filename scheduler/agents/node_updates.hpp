// NodeUpdates: what an agent tells about its node besides reports -- its inventory (GPUs, CUDA
// driver, addresses, InfiniBand ports) and its setup's progress (nodeStatus), which moves the
// node through Azure's starting / waitingforstarttask / starttaskfailed / unusable / idle
// states -- and what welcome asks it to set up (the pool's application packages, its start
// task, the pinned GPU driver).
#pragma once

#include "scheduler/cluster/context.hpp"

namespace openbatch::agents {

class NodeUpdates {
 public:
  explicit NodeUpdates(cluster::Context& ctx) : ctx_(ctx) {}

  protocol::NodeSetup setup_for(const cluster::NodeInfo& node);
  void handle_node_status(cluster::NodeInfo& node, protocol::NodeStatus status);
  void handle_inventory(cluster::NodeInfo& node, protocol::InventoryUpdate update, uint64_t seq);

 private:
  cluster::Context& ctx_;
};

}  // namespace openbatch::agents
