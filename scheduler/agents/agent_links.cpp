#include "scheduler/agents/agent_links.hpp"

#include "scheduler/domain/node_record.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <type_traits>

namespace openbatch::agents {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using cluster::NodeInfo;

void AgentLinks::opened(const std::shared_ptr<AgentChannel>& link, const std::string& node_id) {
  if (ctx_.stopped) {
    link->close(1001, "the scheduler is stopping");
    return;
  }
  if (!ctx_.model.find_node(node_id)) link->close(1008, "the node is not part of any pool");
  // The node is linked only once its hello is answered.
}

void AgentLinks::closed(const std::shared_ptr<AgentChannel>& link) {
  rooms_.files.fail_for_link(link->id());
  NodeInfo* node = ctx_.model.find_node(link->node_id());
  if (!node || node->link != link) return;
  node->link.reset();
  node->linked = false;
  spdlog::info("node {}: link closed", node->id);
}

void AgentLinks::frame(const std::shared_ptr<AgentChannel>& link, const std::string& text) {
  if (ctx_.stopped) return;
  NodeInfo* node = ctx_.model.find_node(link->node_id());
  if (!node) {
    link->close(1008, "the node is not part of any pool");
    return;
  }
  auto message = protocol::decode(text);
  if (!message) {
    spdlog::warn("node {}: invalid frame: {}", node->id, message.error().message);
    link->close(1008, message.error().message.substr(0, 120));
    return;
  }
  if (auto* hello = std::get_if<protocol::Hello>(&message->payload)) {
    handle_hello(link, *node, std::move(*hello));
    return;
  }
  if (node->link != link) {
    link->close(1008, "hello must be the first frame");
    return;
  }
  node->last_seen = ctx_.clock.steady_now();
  if (node->state == NodeState::Unknown)
    rooms_.liveness.write_node_state(
        node->id, resting_node_state(node->setup_state, !node->attempts.empty()));
  route(link, *node, std::move(*message));
}

void AgentLinks::route(const std::shared_ptr<AgentChannel>& link, NodeInfo& node,
                       protocol::Message message) {
  std::visit(
      [&](auto& payload) {
        using T = std::decay_t<decltype(payload)>;
        if constexpr (std::is_same_v<T, protocol::Report>) {
          rooms_.reports.handle(node, std::move(payload), message.seq);
        } else if constexpr (std::is_same_v<T, protocol::InventoryUpdate>) {
          rooms_.updates.handle_inventory(node, std::move(payload), message.seq);
        } else if constexpr (std::is_same_v<T, protocol::NodeStatus>) {
          rooms_.updates.handle_node_status(node, std::move(payload));
        } else if constexpr (std::is_same_v<T, protocol::FileResponse>) {
          rooms_.files.handle_response(node, std::move(payload));
        } else if constexpr (std::is_same_v<T, protocol::Heartbeat> ||
                             std::is_same_v<T, protocol::Ack>) {
          // Liveness is noted by frame(); the agent's acks need no action (attempts are
          // durable here).
        } else {
          link->close(1008, std::string("an agent may not send ") +
                                std::string(protocol::type_name(message.payload)));
        }
      },
      message.payload);
}

void AgentLinks::send(NodeInfo& node, protocol::Payload payload) {
  if (!node.link) return;
  protocol::Message message{node.next_seq++, std::move(payload)};
  node.link->send(protocol::encode(message));
}

void AgentLinks::ack(NodeInfo& node, std::vector<uint64_t> seqs) {
  if (seqs.empty()) return;
  send(node, protocol::Ack{std::move(seqs)});
}

// ---- hello and reconciliation (agent-protocol.md 4.5) ----

void AgentLinks::handle_hello(const std::shared_ptr<AgentChannel>& link, NodeInfo& node,
                              protocol::Hello hello) {
  if (!accept(link, node, hello)) return;
  spdlog::info("node {}: linked ({} running, {} unacked reports)", node.id,
               hello.running_attempts.size(), hello.unacked_reports.size());
  reconcile_attempts(node, hello);
  cancel_ended_jobs(node);
  // The node's state follows the nodeStatus the agent sends right after welcome; until then
  // a node coming back from unknown/offline shows what its setup last said.
  if (!node_is_up(node.state) && node.state != NodeState::LeavingPool &&
      !node.setup_state.empty()) {
    rooms_.liveness.write_node_state(node.id,
                                     resting_node_state(node.setup_state, !node.attempts.empty()));
  }
  ctx_.wiring->resend_start_applications(node);
  ctx_.wiring->schedule_round();
}

bool AgentLinks::accept(const std::shared_ptr<AgentChannel>& link, NodeInfo& node,
                        const protocol::Hello& hello) {
  if (hello.node_id != node.id) {
    link->close(1008, "hello.nodeId does not match the node token");
    return false;
  }
  if (hello.protocol_version != protocol::kProtocolVersion) {
    link->close(1008, "unsupported protocol version " + std::to_string(hello.protocol_version));
    return false;
  }
  if (node.link && node.link != link) node.link->close(1000, "replaced by a newer link");
  node.link = link;
  node.linked = true;
  node.next_seq = 1;
  node.exec_port = hello.exec_port.value_or(0);
  node.last_seen = ctx_.clock.steady_now();
  const cluster::PoolInfo* pool = ctx_.model.find_pool(node.pool_id);
  protocol::Welcome welcome;
  welcome.node_id = node.id;
  welcome.heartbeat_interval_seconds = ctx_.config.heartbeat_interval_seconds;
  welcome.inventory_wanted = hello.inventory_hash != node.inventory_hash;
  welcome.pool_id = pool ? pool->id : node.pool_id;
  welcome.account_name = ctx_.config.account_name;
  welcome.account_url = ctx_.config.account_url;
  welcome.node_setup = rooms_.updates.setup_for(node);
  // The agent runs its remote-launch server only for an inter-node pool, and only on the
  // address the node's peers use (its hostList entry), not on every interface.
  welcome.inter_node_communication = pool && pool->inter_node;
  if (!node.ip_address.empty()) welcome.node_address = node.ip_address;
  send(node, std::move(welcome));
  return true;
}

void AgentLinks::reconcile_attempts(NodeInfo& node, protocol::Hello& hello) {
  std::set<std::string> on_agent;
  for (const auto& r : hello.running_attempts) on_agent.insert(r.attempt_id);
  for (const auto& r : hello.unacked_reports) on_agent.insert(r.report.attempt_id);
  // Running there but not ours (stale, requeued while away, or unknown): stop it.
  for (const auto& r : hello.running_attempts) {
    if (!node.attempts.count(r.attempt_id)) {
      send(node, protocol::Cancel{r.attempt_id, protocol::CancelReason::UnknownAttempt});
    }
  }
  // Ours but unknown there: the assignment was lost before it started.
  std::vector<std::string> lost;
  for (const auto& id : node.attempts) {
    auto a = ctx_.model.attempts.find(id);
    if (a == ctx_.model.attempts.end() || a->second.finishing) continue;
    if (!on_agent.count(id)) {
      lost.push_back(id);
    } else {
      a->second.cancel_sent = false;  // a cancel sent on the old link may be lost: resend below
    }
  }
  for (auto& pending : hello.unacked_reports)
    rooms_.reports.handle(node, std::move(pending.report), pending.seq);
  if (!lost.empty()) rooms_.ends.requeue(node.id, std::move(lost), std::nullopt, std::nullopt);
}

void AgentLinks::cancel_ended_jobs(NodeInfo& node) {
  for (const auto& id : std::vector<std::string>(node.attempts.begin(), node.attempts.end())) {
    auto a = ctx_.model.attempts.find(id);
    if (a == ctx_.model.attempts.end() || a->second.finishing) continue;
    cluster::JobInfo* job = ctx_.model.find_job(a->second.job_id);
    if (!job || job->state == JobState::Terminating || job->state == JobState::Completed ||
        job->state == JobState::Deleting) {
      rooms_.ends.cancel(id, protocol::CancelReason::JobTerminated);
    }
  }
}

}  // namespace openbatch::agents
