// Joins: static provisioning. A machine's agent joins a pool with the pool's join token; the
// pool must be active and below its target; the node and its own token are created in one op.
#pragma once

#include "common/error.hpp"
#include "scheduler/cluster/context.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <string>
#include <unordered_map>

namespace openbatch::provision {

struct JoinRequest {
  std::string pool_id;
  std::string token;
  std::string hostname;
  std::string peer_address;
  nlohmann::json inventory;
};

struct JoinAnswer {
  std::string node_id;
  std::string node_token;
  std::string pool_id;
  int heartbeat_interval_seconds = 10;
};

class Joins {
 public:
  explicit Joins(cluster::Context& ctx) : ctx_(ctx) {}

  // On the strand; `done` runs on the strand.
  void join(const JoinRequest& request, std::function<void(Result<JoinAnswer>)> done);

 private:
  // The pool the request may join, or nullptr once `done` has the refusal.
  const cluster::PoolInfo* admit(const JoinRequest& request,
                                 std::function<void(Result<JoinAnswer>)>& done);

  cluster::Context& ctx_;
  // Nodes whose join is being committed, by lowercased pool id.
  std::unordered_map<std::string, std::set<std::string>> in_flight_;
};

}  // namespace openbatch::provision
