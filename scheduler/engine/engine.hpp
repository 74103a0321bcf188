// Engine: the scheduler's live half, as a facade over its rooms (scheduler/README.md):
//   cluster/   the in-memory model (pools, jobs and their queues, nodes, attempts, gangs);
//   dispatch/  placement rounds, their commit, multi-instance gangs;
//   agents/    the agents' links, reports, liveness, inventory and setup, file requests;
//   provision/ pools against their targets, local agents, joins, node removal;
//   engine/    this facade and the change feed that keeps the model current (model_feed.hpp).
// The Engine owns the strand, the store, the clock and the configuration, builds the rooms and
// routes the calls they make into one another (cluster::Wiring).
//
// Everything runs on one strand: no locks, and no blocking I/O on it except short indexed
// store reads. Store writes go through the group-commit writer; their results come back to the
// strand.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/agents/agent_channel.hpp"
#include "scheduler/agents/agent_links.hpp"
#include "scheduler/agents/attempt_ends.hpp"
#include "scheduler/agents/file_requests.hpp"
#include "scheduler/agents/liveness.hpp"
#include "scheduler/agents/node_updates.hpp"
#include "scheduler/agents/reports.hpp"
#include "scheduler/cluster/context.hpp"
#include "scheduler/dispatch/dispatcher.hpp"
#include "scheduler/dispatch/gangs.hpp"
#include "scheduler/engine/model_feed.hpp"
#include "scheduler/provision/joins.hpp"
#include "scheduler/provision/local_agents.hpp"
#include "scheduler/provision/provisioner.hpp"
#include "scheduler/store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::engine {

using cluster::EngineConfig;
using provision::JoinAnswer;
using provision::JoinRequest;

class Engine final : public agents::AgentChannelEvents, private cluster::Wiring {
 public:
  using Executor = cluster::Executor;

  Engine(boost::asio::io_context& ioc, store::Store& store, const Clock& clock, EngineConfig config,
         std::function<std::string()> next_etag,
         std::unique_ptr<provision::LocalAgents> local_agents);
  ~Engine() override;

  // Loads the model from the store, installs the change feed and starts the timers.
  void start();
  // Stops placing and timers (thread-safe; posts). For the start of a graceful shutdown.
  void quiesce();
  // Final stop, once the io_context has stopped: drops links and, when `stop_agents`, stops
  // the local agents (SIGTERM, bounded wait). Agents left running are adopted by the next start.
  void stop(bool stop_agents);

  // Joins a node to a pool (static provisioning): checks the pool's join token, creates the
  // node and its token. `done` runs on the strand.
  void join(JoinRequest request, std::function<void(Result<JoinAnswer>)> done);

  // A link passed authentication for `node_id`. Frames and the close come back through
  // on_frame / on_link_closed. Thread-safe (posts to the strand).
  void on_link_opened(std::shared_ptr<agents::AgentChannel> link, std::string node_id) override;
  void on_frame(std::shared_ptr<agents::AgentChannel> link, std::string text) override;
  void on_link_closed(std::shared_ptr<agents::AgentChannel> link) override;

  // Node files (agents/file_requests.hpp, agent-protocol.md 3.9): sends one fileRequest to the
  // node's agent, minting its requestId, and calls `done` on the strand with the agent's
  // answer; or with 409 NodeNotReachable when the node has no link now or its link closes
  // first, or 504 OperationTimedOut after config.file_request_timeout. Thread-safe (posts).
  using FileAnswer = agents::FileRequests::FileAnswer;
  void file_request(std::string node_id, protocol::FileRequest request, FileAnswer done);

  // The node a node token belongs to (reads the store; call off the strand). nullopt when the
  // token is unknown or wrong.
  std::optional<std::string> authenticate_node(std::string_view token);
  // Whether node `node_id` may download the package blob `digest`: one of its pool's or of
  // the tasks dispatched to it (package_access.hpp; reads the store; call off the strand).
  bool node_may_download(const std::string& node_id, std::string_view digest);

  Executor& executor() { return ctx_.strand; }
  const EngineConfig& config() const { return ctx_.config; }

 private:
  void tick();

  // cluster::Wiring: each call forwarded to the room that answers it.
  void schedule_round() override;
  void end_gang(const std::string& primary, protocol::CancelReason reason) override;
  void cancel_gang(const std::string& primary, protocol::CancelReason reason,
                   const std::string& except) override;
  void handle_coordinated(cluster::NodeInfo& node, protocol::Report report, uint64_t seq) override;
  void resend_start_applications(cluster::NodeInfo& node) override;
  void send(cluster::NodeInfo& node, protocol::Payload payload) override;
  void ack(cluster::NodeInfo& node, std::vector<uint64_t> seqs) override;
  void close_link(cluster::NodeInfo& node, std::uint16_t code, const std::string& reason) override;
  void requeue_attempts(const std::string& node_id, std::vector<std::string> attempt_ids,
                        std::optional<domain::NodeState> node_state,
                        std::optional<protocol::CancelReason> cancel) override;
  void cancel_attempt(const std::string& attempt_id, protocol::CancelReason reason) override;
  void forget_attempt(const std::string& attempt_id, const cluster::AttemptInfo& info,
                      const cluster::RequeuedTask& task) override;
  void reconcile_pools() override;
  void remove_node(const std::string& node_id) override;

  cluster::Context ctx_;
  boost::asio::steady_timer timer_;
  agents::AttemptEnds ends_;
  agents::Reports reports_;
  agents::NodeUpdates updates_;
  agents::Liveness liveness_;
  agents::FileRequests files_;
  agents::AgentLinks links_;
  dispatch::Dispatcher dispatcher_;
  dispatch::Gangs gangs_;
  provision::Provisioner provisioner_;
  provision::Joins joins_;
  ModelFeed feed_;
};

}  // namespace openbatch::engine
