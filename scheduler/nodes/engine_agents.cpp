// Engine: agent links -- hello and reconciliation, reports applied exactly once, inventory,
// heartbeats and liveness (unknown -> offline -> requeue), joins.
#include "common/auth/bearer_token.hpp"
#include "common/encoding.hpp"
#include "common/time.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using nlohmann::json;
using store::Table;

// ---- links ----

void Engine::on_link_opened(std::shared_ptr<AgentChannel> link, std::string node_id) {
  asio::post(strand_, [this, link = std::move(link), node_id = std::move(node_id)] {
    if (stopped_) {
      link->close(1001, "the scheduler is stopping");
      return;
    }
    if (!find_node(node_id)) link->close(1008, "the node is not part of any pool");
    // The node is linked only once its hello is answered.
  });
}

void Engine::on_link_closed(std::shared_ptr<AgentChannel> link) {
  asio::post(strand_, [this, link = std::move(link)] {
    fail_file_requests(link->id());
    NodeInfo* node = find_node(link->node_id());
    if (!node || node->link != link) return;
    node->link.reset();
    node->linked = false;
    spdlog::info("node {}: link closed", node->id);
  });
}

void Engine::on_frame(std::shared_ptr<AgentChannel> link, std::string text) {
  asio::post(strand_, [this, link = std::move(link), text = std::move(text)] {
    if (stopped_) return;
    NodeInfo* node = find_node(link->node_id());
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
      handle_hello(link, *node, std::move(*hello), message->seq);
      return;
    }
    if (node->link != link) {
      link->close(1008, "hello must be the first frame");
      return;
    }
    node->last_seen = clock_.steady_now();
    if (node->state == "unknown")
      write_node_state(node->id, resting_state(node->setup_state, !node->attempts.empty()));
    std::visit(
        [&](auto& payload) {
          using T = std::decay_t<decltype(payload)>;
          if constexpr (std::is_same_v<T, protocol::Report>) {
            handle_report(*node, std::move(payload), message->seq);
          } else if constexpr (std::is_same_v<T, protocol::InventoryUpdate>) {
            handle_inventory(*node, std::move(payload), message->seq);
          } else if constexpr (std::is_same_v<T, protocol::NodeStatus>) {
            handle_node_status(*node, std::move(payload));
          } else if constexpr (std::is_same_v<T, protocol::FileResponse>) {
            handle_file_response(*node, std::move(payload));
          } else if constexpr (std::is_same_v<T, protocol::Heartbeat> ||
                               std::is_same_v<T, protocol::Ack>) {
            // Liveness is noted above; the agent's acks need no action (attempts are durable here).
          } else {
            link->close(1008, std::string("an agent may not send ") +
                                  std::string(protocol::type_name(message->payload)));
          }
        },
        message->payload);
  });
}

void Engine::send(NodeInfo& node, protocol::Payload payload) {
  if (!node.link) return;
  protocol::Message message{node.next_seq++, std::move(payload)};
  node.link->send(protocol::encode(message));
}

void Engine::ack(NodeInfo& node, std::vector<uint64_t> seqs) {
  if (seqs.empty()) return;
  send(node, protocol::Ack{std::move(seqs)});
}

// ---- hello and reconciliation (agent-protocol.md 4.5) ----

void Engine::handle_hello(const std::shared_ptr<AgentChannel>& link, NodeInfo& node,
                          protocol::Hello hello, uint64_t seq) {
  if (hello.node_id != node.id) {
    link->close(1008, "hello.nodeId does not match the node token");
    return;
  }
  if (hello.protocol_version != protocol::kProtocolVersion) {
    link->close(1008, "unsupported protocol version " + std::to_string(hello.protocol_version));
    return;
  }
  if (node.link && node.link != link) node.link->close(1000, "replaced by a newer link");
  node.link = link;
  node.linked = true;
  node.next_seq = 1;
  node.exec_port = hello.exec_port.value_or(0);
  node.last_seen = clock_.steady_now();
  const PoolInfo* pool = nullptr;
  if (auto it = pools_.find(lower(node.pool_id)); it != pools_.end()) pool = &it->second;
  protocol::Welcome welcome;
  welcome.node_id = node.id;
  welcome.heartbeat_interval_seconds = config_.heartbeat_interval_seconds;
  welcome.inventory_wanted = hello.inventory_hash != node.inventory_hash;
  welcome.pool_id = pool ? pool->id : node.pool_id;
  welcome.account_name = config_.account_name;
  welcome.account_url = config_.account_url;
  welcome.node_setup = node_setup_for(node);
  // The agent runs its remote-launch server only for an inter-node pool, and only on the
  // address the node's peers use (its hostList entry), not on every interface.
  welcome.inter_node_communication = pool && pool->inter_node;
  if (!node.ip_address.empty()) welcome.node_address = node.ip_address;
  send(node, std::move(welcome));
  spdlog::info("node {}: linked ({} running, {} unacked reports)", node.id,
               hello.running_attempts.size(), hello.unacked_reports.size());

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
    auto a = attempts_.find(id);
    if (a == attempts_.end() || a->second.finishing) continue;
    if (!on_agent.count(id)) {
      lost.push_back(id);
    } else {
      a->second.cancel_sent = false;  // a cancel sent on the old link may be lost: resend below
    }
  }
  for (auto& pending : hello.unacked_reports)
    handle_report(node, std::move(pending.report), pending.seq);
  if (!lost.empty()) requeue_attempts(node.id, std::move(lost), std::nullopt, std::nullopt);
  // Cancels decided while the node was away (task terminated, job ended).
  for (const auto& id : std::vector<std::string>(node.attempts.begin(), node.attempts.end())) {
    auto a = attempts_.find(id);
    if (a == attempts_.end() || a->second.finishing) continue;
    const std::string key = task_key(a->second.job_id, a->second.task_id);
    JobInfo* job = find_job(a->second.job_id);
    if (!job || job->state == "terminating" || job->state == "completed" ||
        job->state == "deleting") {
      cancel_attempt(id, protocol::CancelReason::JobTerminated);
    }
  }
  // The node's state follows the nodeStatus the agent sends right after welcome; until then
  // a node coming back from unknown/offline shows what its setup last said.
  if (!node_is_up(node.state) && node.state != "leavingpool" && !node.setup_state.empty()) {
    write_node_state(node.id, resting_state(node.setup_state, !node.attempts.empty()));
  }
  resend_start_applications(node);
  (void)seq;
  schedule_round();
}

// ---- requeue (node lost, node leaving, job disabled with requeue, assignment lost) ----

void Engine::requeue_attempts(const std::string& node_id, std::vector<std::string> attempt_ids,
                              std::optional<std::string> node_state,
                              std::optional<protocol::CancelReason> cancel) {
  NodeInfo* node = find_node(node_id);
  if (!node) return;
  std::vector<AttemptInfo> infos;
  std::vector<std::string> ids;
  for (const auto& id : attempt_ids) {
    auto it = attempts_.find(id);
    if (it == attempts_.end() || it->second.finishing) continue;
    it->second.finishing = true;
    infos.push_back(it->second);
    ids.push_back(id);
  }
  if (node_state) node->state = *node_state;
  auto results = std::make_shared<std::vector<RequeuedTask>>(ids.size());
  const TimePoint now = clock_.now();
  const std::string pool_id = node->pool_id;
  store_.submit(
      [results, ids, infos, pool_id, node_id, node_state, now](store::Writer& w) {
        auto node_record = w.get(Table::Nodes, pool_id, node_id);
        json node_json = node_record ? json::parse(node_record->body, nullptr, false) : json();
        for (std::size_t i = 0; i < ids.size(); ++i) {
          RequeuedTask& requeued = (*results)[i];
          // A gang instance lost means the whole task goes back, through its primary's id.
          const std::string& current = infos[i].gang.empty() ? ids[i] : infos[i].gang;
          if (!requeue_if_current(w, infos[i].job_id, infos[i].task_id, current, now, requeued))
            return false;
          const json execution_info = requeued.changed
                                          ? requeued.task.value("executionInfo", json::object())
                                          : json::object();
          if (node_json.is_object()) {
            remove_attempt(node_json, ids[i], std::nullopt,
                           requeued.changed ? "active" : "completed", execution_info, now);
          }
        }
        if (node_record && node_json.is_object()) {
          if (node_state) set_node_state(node_json, *node_state, now);
          node_record->state = node_json.value("state", node_record->state);
          node_record->body = dump_entity(node_json);
          if (!w.update(Table::Nodes, *node_record)) return false;
        }
        return true;
      },
      [this, results, ids, infos, node_id, cancel](const Status& status) {
        asio::post(strand_, [this, results, ids, infos, node_id, cancel, ok = status.has_value()] {
          for (std::size_t i = 0; i < ids.size(); ++i) {
            if (!ok) {
              if (auto it = attempts_.find(ids[i]); it != attempts_.end())
                it->second.finishing = false;
              continue;
            }
            NodeInfo* target = find_node(node_id);
            if (target && cancel && target->linked)
              send(*target, protocol::Cancel{ids[i], *cancel});
            if (!infos[i].gang.empty() && (*results)[i].changed)
              end_gang(infos[i].gang, protocol::CancelReason::Requeued);
            forget_attempt(ids[i], infos[i], (*results)[i]);
          }
          schedule_round();
        });
      });
}

void Engine::write_node_state(const std::string& node_id, std::string state) {
  NodeInfo* node = find_node(node_id);
  if (!node) return;
  node->state = state;
  const TimePoint now = clock_.now();
  const std::string pool_id = node->pool_id;
  store_.submit(
      [pool_id, node_id, state, now](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!node_json.is_object() || node_json.value("state", "") == "leavingpool") return false;
        std::string target = state;
        // idle/running follow the durable attempt list, not the caller's view of it.
        if (node_is_up(target)) target = attempts_of(node_json).empty() ? "idle" : "running";
        set_node_state(node_json, target, now);
        record->state = target;
        record->body = dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      nullptr);
}

// ---- inventory ----

void Engine::handle_inventory(NodeInfo& node, protocol::InventoryUpdate update, uint64_t seq) {
  auto facts = inventory_facts_of(update.inventory);
  node.gpus = facts.gpus;
  node.cuda_driver_version = facts.cuda_driver_version;
  node.infiniband_active_ports = facts.infiniband_active_ports;
  node.hostname = std::move(facts.hostname);
  node.network = std::move(facts.network);
  node.inventory_hash = update.inventory_hash;
  if (node.provisioner != "local" && !facts.address.empty()) node.ip_address = facts.address;
  const std::string pool_id = node.pool_id;
  const std::string node_id = node.id;
  const std::string address = node.ip_address;
  store_.submit(
      [pool_id, node_id, update = std::move(update), address](store::Writer& w) {
        auto record = w.get(Table::Nodes, pool_id, node_id);
        if (!record) return false;
        auto node_json = json::parse(record->body, nullptr, false);
        if (!node_json.is_object()) return false;
        node_json["openbatch"]["inventory"] = update.inventory;
        node_json["openbatch"]["inventoryHash"] = update.inventory_hash;
        if (!address.empty()) node_json["ipAddress"] = address;
        record->body = dump_entity(node_json);
        return w.update(Table::Nodes, *record);
      },
      [this, node_id, seq](const Status& status) {
        if (!status) return;
        asio::post(strand_, [this, node_id, seq] {
          if (NodeInfo* target = find_node(node_id)) ack(*target, {seq});
        });
      });
}

// ---- liveness ----

void Engine::check_liveness() {
  const auto now = clock_.steady_now();
  const auto interval = std::chrono::seconds(config_.heartbeat_interval_seconds);
  // The scan visits every node; at 10,000 nodes it was a tenth of the idle cost when run on
  // every tick. A quarter interval between scans adds at most that to a detection that waits
  // unknown_after_heartbeats whole intervals (with 1 s heartbeats: every tick, as before).
  // After a scan that changed a state the next tick scans again, so unknown -> offline does
  // not wait for the clock to move.
  if (last_liveness_scan_ && now - *last_liveness_scan_ < interval / 4) return;
  last_liveness_scan_ = now;
  const auto unknown_after = interval * config_.unknown_after_heartbeats;
  const auto offline_after = interval * config_.offline_after_heartbeats;
  std::vector<std::string> to_unknown, to_offline;
  for (auto& [id, node] : nodes_) {
    if (node.leaving) continue;
    const auto silent = now - node.last_seen;
    const bool set_up_or_setting_up = node_is_up(node.state) ||
                                      node.state == "waitingforstarttask" ||
                                      node.state == "starttaskfailed" || node.state == "unusable";
    if (set_up_or_setting_up && silent > unknown_after) to_unknown.push_back(id);
    if ((node.state == "unknown" || node.state == "starting") && silent > offline_after)
      to_offline.push_back(id);
  }
  if (!to_unknown.empty() || !to_offline.empty()) last_liveness_scan_.reset();
  for (const auto& id : to_unknown) {
    spdlog::warn("node {}: no frame for {} heartbeats: unknown", id,
                 config_.unknown_after_heartbeats);
    write_node_state(id, "unknown");
  }
  for (const auto& id : to_offline) {
    NodeInfo* node = find_node(id);
    if (!node) continue;
    spdlog::warn("node {}: lost: offline, requeueing {} attempts", id, node->attempts.size());
    if (node->link) node->link->close(1001, "the node was marked offline");
    node->link.reset();
    node->linked = false;
    if (node->attempts.empty()) {
      write_node_state(id, "offline");
    } else {
      requeue_attempts(id, std::vector<std::string>(node->attempts.begin(), node->attempts.end()),
                       "offline", std::nullopt);
    }
  }
}

void Engine::tick() {
  if (stopped_) return;
  check_liveness();
  if (local_agents_) local_agents_->poll();
  reconcile_pools();
  timer_.expires_after(std::chrono::milliseconds(500));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

// ---- join (static provisioning) ----

void Engine::join(JoinRequest request, std::function<void(Result<JoinAnswer>)> done) {
  asio::post(strand_, [this, request = std::move(request), done = std::move(done)]() mutable {
    // An unknown pool and a wrong token get the same answer, so that an unauthenticated
    // caller cannot tell which pool ids exist; the log says which it was.
    auto pool_it = pools_.find(lower(request.pool_id));
    const bool pool_joinable = pool_it != pools_.end() && pool_it->second.state == "active";
    bool token_valid = false;
    {
      auto reader = store_.reader();
      token_valid = store::credential_matches(*reader, store::kJoinCredential,
                                              pool_joinable ? pool_it->second.id : request.pool_id,
                                              request.token);
    }
    if (!pool_joinable || !token_valid) {
      spdlog::info("join refused for pool '{}': {}", request.pool_id.substr(0, 64),
                   !pool_joinable ? "no such active pool" : "wrong join token");
      done(Error(401, "AuthenticationFailed", "The pool join token is not valid for this pool."));
      return;
    }
    const PoolInfo pool = pool_it->second;
    const int members = static_cast<int>(members_.count(lower(pool.id)));
    if (members + joins_in_flight_[lower(pool.id)] >= pool.target_nodes) {
      done(Error(409, "PoolTargetReached",
                 "Pool " + pool.id + " already has its targetDedicatedNodes (" +
                     std::to_string(pool.target_nodes) + ") nodes; resize the pool to add more.",
                 {{"PropertyName", "targetDedicatedNodes"}}));
      return;
    }
    auto facts = inventory_facts_of(request.inventory);
    NewNode spec;
    spec.id = "tvmps_" + encoding::uuid_v4().substr(0, 8) + encoding::uuid_v4().substr(0, 8);
    spec.id.erase(std::remove(spec.id.begin(), spec.id.end(), '-'), spec.id.end());
    spec.pool_id = pool.id;
    spec.url = node_url(pool.id, spec.id);
    spec.vm_size = pool.vm_size;
    spec.ip_address = !facts.address.empty() ? facts.address : request.peer_address;
    spec.hostname = request.hostname;
    spec.provisioner = "static";
    spec.image_reference = pool.image_reference;
    spec.state = "starting";
    json node_json = make_node(spec, clock_.now());
    if (request.inventory.is_object()) {
      node_json["openbatch"]["inventory"] = request.inventory;
      node_json["openbatch"]["inventoryHash"] = inventory_hash_of(request.inventory);
    }
    const std::string token = auth::new_bearer_token(spec.id);
    auto credential = store::credential_record(store::kNodeCredential, spec.id, token, pool.id);
    store::Record record{spec.id, pool.id, "starting", dump_entity(node_json), 0};
    joins_in_flight_[lower(pool.id)]++;
    store_.submit(
        [record, credential](store::Writer& w) mutable {
          return w.insert(Table::Nodes, record) && store::put_credential(w, credential);
        },
        [this, done = std::move(done), spec, token,
         pool_key = lower(pool.id)](const Status& status) mutable {
          asio::post(
              strand_, [this, done = std::move(done), spec, token, pool_key, status]() mutable {
                joins_in_flight_[pool_key]--;
                if (!status) {
                  done(status.error());
                  return;
                }
                spdlog::info("node {} joined pool {} ({})", spec.id, spec.pool_id, spec.hostname);
                done(JoinAnswer{spec.id, token, spec.pool_id, config_.heartbeat_interval_seconds});
              });
        });
  });
}

}  // namespace openbatch::nodes
