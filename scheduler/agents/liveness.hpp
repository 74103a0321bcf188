// Liveness: a node whose agent sends no frame for unknown_after_heartbeats intervals shows
// `unknown`; after offline_after_heartbeats it is `offline`, its link is dropped and its
// attempts are requeued. Also the one place node states reach the store outside of attempts.
#pragma once

#include "scheduler/agents/attempt_ends.hpp"
#include "scheduler/cluster/context.hpp"
#include "scheduler/domain/states.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace openbatch::agents {

class Liveness {
 public:
  Liveness(cluster::Context& ctx, AttemptEnds& ends) : ctx_(ctx), ends_(ends) {}

  // Runs on every tick.
  void check();
  // Sets the node's state in the model and the store (idle/running follow the durable
  // attempt list; a node leaving its pool keeps leavingpool).
  void write_node_state(const std::string& node_id, domain::NodeState state);

 private:
  void mark_offline(const std::string& node_id);

  cluster::Context& ctx_;
  AttemptEnds& ends_;
  std::optional<std::chrono::steady_clock::time_point> last_scan_;  // ctx_.clock.steady_now()
};

}  // namespace openbatch::agents
