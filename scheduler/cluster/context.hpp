// What every room of the engine shares: the strand it runs on, the store, the clock, the
// configuration, the cluster model, and Wiring -- the calls one room makes into another, which
// the Engine routes. Rooms depend on this folder only, never on each other, so the folder graph
// stays acyclic (cluster <- dispatch, agents, provision <- engine).
#pragma once

#include "common/clock.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/cluster/attempt_writes.hpp"
#include "scheduler/cluster/cluster_model.hpp"
#include "scheduler/store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::cluster {

struct EngineConfig {
  std::string account_name;
  std::string account_url;                    // base URL of entity urls
  std::string default_provisioner = "local";  // for pools without openbatch.provisioner metadata
  int heartbeat_interval_seconds = 10;
  int unknown_after_heartbeats = 3;  // no frame for this many intervals -> unknown
  int offline_after_heartbeats = 6;  // ... and this many -> offline, attempts requeued
  std::size_t max_dispatch_per_round = 2048;
  // A fileRequest unanswered this long fails with 504 OperationTimedOut.
  std::chrono::milliseconds file_request_timeout = std::chrono::seconds(30);
};

using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;

// The calls that cross rooms. Each names the room that answers it; the Engine forwards.
class Wiring {
 public:
  virtual ~Wiring() = default;
  // dispatch/: a placement round soon (coalesced); a gang's instances stopped, or all but one.
  virtual void schedule_round() = 0;
  virtual void end_gang(const std::string& primary, protocol::CancelReason reason) = 0;
  virtual void cancel_gang(const std::string& primary, protocol::CancelReason reason,
                           const std::string& except) = 0;
  virtual void handle_coordinated(NodeInfo& node, protocol::Report report, uint64_t seq) = 0;
  virtual void resend_start_applications(NodeInfo& node) = 0;
  // agents/: frames to a node's agent, and the ends of attempts.
  virtual void send(NodeInfo& node, protocol::Payload payload) = 0;
  virtual void ack(NodeInfo& node, std::vector<uint64_t> seqs) = 0;
  virtual void close_link(NodeInfo& node, std::uint16_t code, const std::string& reason) = 0;
  virtual void requeue_attempts(const std::string& node_id, std::vector<std::string> attempt_ids,
                                std::optional<domain::NodeState> node_state,
                                std::optional<protocol::CancelReason> cancel) = 0;
  virtual void cancel_attempt(const std::string& attempt_id, protocol::CancelReason reason) = 0;
  virtual void forget_attempt(const std::string& attempt_id, const AttemptInfo& info,
                              const RequeuedTask& task) = 0;
  // provision/: node counts against pool targets, and a node leaving its pool.
  virtual void reconcile_pools() = 0;
  virtual void remove_node(const std::string& node_id) = 0;
};

struct Context {
  Context(Executor strand_in, store::Store& store_in, const Clock& clock_in, EngineConfig config_in,
          std::function<std::string()> next_etag_in)
      : strand(std::move(strand_in)),
        store(store_in),
        clock(clock_in),
        config(std::move(config_in)),
        next_etag(std::move(next_etag_in)) {}

  std::string node_url(const std::string& pool_id, const std::string& node_id) const {
    return config.account_url + "/pools/" + pool_id + "/nodes/" + node_id;
  }

  Executor strand;
  store::Store& store;
  const Clock& clock;
  EngineConfig config;
  std::function<std::string()> next_etag;
  ClusterModel model;
  Wiring* wiring = nullptr;  // set by the Engine before anything runs
  bool stopped = false;
  bool loading = false;  // the model is being read from the store
};

}  // namespace openbatch::cluster
