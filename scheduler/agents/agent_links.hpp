// AgentLinks: the agents' links -- hello and reconciliation (agent-protocol.md 4.5), frames
// routed to the room that handles them, sequence numbers and acks, sending. A node is linked
// only once its hello is answered with welcome. Runs on the engine's strand (the Engine posts
// the transport's events there).
#pragma once

#include "scheduler/agents/agent_channel.hpp"
#include "scheduler/agents/attempt_ends.hpp"
#include "scheduler/agents/file_requests.hpp"
#include "scheduler/agents/liveness.hpp"
#include "scheduler/agents/node_updates.hpp"
#include "scheduler/agents/reports.hpp"
#include "scheduler/cluster/context.hpp"

#include <memory>
#include <string>
#include <vector>

namespace openbatch::agents {

class AgentLinks {
 public:
  struct Rooms {
    AttemptEnds& ends;
    Reports& reports;
    NodeUpdates& updates;
    Liveness& liveness;
    FileRequests& files;
  };
  AgentLinks(cluster::Context& ctx, Rooms rooms) : ctx_(ctx), rooms_(rooms) {}

  void opened(const std::shared_ptr<AgentChannel>& link, const std::string& node_id);
  void closed(const std::shared_ptr<AgentChannel>& link);
  void frame(const std::shared_ptr<AgentChannel>& link, const std::string& text);

  void send(cluster::NodeInfo& node, protocol::Payload payload);
  void ack(cluster::NodeInfo& node, std::vector<uint64_t> seqs);

 private:
  void route(const std::shared_ptr<AgentChannel>& link, cluster::NodeInfo& node,
             protocol::Message message);
  void handle_hello(const std::shared_ptr<AgentChannel>& link, cluster::NodeInfo& node,
                    protocol::Hello hello);
  // Checks the hello, takes the link and answers with welcome. False when the link was closed.
  bool accept(const std::shared_ptr<AgentChannel>& link, cluster::NodeInfo& node,
              const protocol::Hello& hello);
  // The agent's attempts against ours: theirs unknown here stop, ours unknown there requeue,
  // their unacked reports apply.
  void reconcile_attempts(cluster::NodeInfo& node, protocol::Hello& hello);
  // Cancels decided while the node was away (task terminated, job ended).
  void cancel_ended_jobs(cluster::NodeInfo& node);

  cluster::Context& ctx_;
  Rooms rooms_;
};

}  // namespace openbatch::agents
