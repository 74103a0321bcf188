// Engine: pools against their targets. Surplus nodes leave (idle ones first); a local pool
// short of nodes gets new ones, each with its own agent process (LocalAgents); a node that
// leaves has its attempts requeued and cancelled, its record and token removed and, when
// local, its agent stopped and its directories deleted.
#include "common/auth/bearer_token.hpp"
#include "common/encoding.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/nodes/entity_facts.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace openbatch::nodes {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using nlohmann::json;
using store::Table;

void Engine::reconcile_pools() {
  if (stopped_ || loading_) return;
  for (auto& [key, pool] : pools_) reconcile_pool(key, pool);
}

void Engine::schedule_reconcile(const std::string& pool_key) {
  members_.mark_dirty(pool_key);
  if (reconcile_scheduled_ || stopped_) return;
  reconcile_scheduled_ = true;
  asio::post(strand_, [this] { reconcile_dirty_pools(); });
}

void Engine::reconcile_dirty_pools() {
  reconcile_scheduled_ = false;
  if (stopped_ || loading_) return;  // load() reconciles every pool once it is done
  for (const auto& key : members_.take_dirty()) {
    auto it = pools_.find(key);
    if (it != pools_.end()) reconcile_pool(key, it->second);
  }
}

// Costs nothing for a pool at its target (the count is kept, not counted), except a local
// pool, whose agents are checked one by one.
void Engine::reconcile_pool(const std::string& key, const PoolInfo& pool) {
  const std::set<std::string>& ids = members_.members(key);
  const int have = static_cast<int>(ids.size());
  if (pool.state != "deleting" && have <= pool.target_nodes &&
      !(pool.provisioner == "local" && local_agents_))
    return;
  std::vector<NodeInfo*> nodes;  // copied: remove_node() changes the membership
  nodes.reserve(ids.size());
  for (const auto& id : ids) {
    if (NodeInfo* node = find_node(id)) nodes.push_back(node);
  }
  if (pool.state == "deleting") {
    for (NodeInfo* node : nodes) remove_node(node->id);
    return;
  }
  if (have > pool.target_nodes) {
    // Idle nodes go first, then the least busy; ties by id for a stable choice.
    std::sort(nodes.begin(), nodes.end(), [](const NodeInfo* a, const NodeInfo* b) {
      if (a->attempts.size() != b->attempts.size()) return a->attempts.size() < b->attempts.size();
      return a->id > b->id;
    });
    for (int i = 0; i < have - pool.target_nodes; ++i) remove_node(nodes[i]->id);
    return;
  }
  if (have < pool.target_nodes && !creating_pools_.count(key))
    create_local_nodes(pool, pool.target_nodes - have);
  for (NodeInfo* node : nodes) {
    if (node->provisioner == "local") ensure_local_agent(*node);
  }
}

void Engine::create_local_nodes(const PoolInfo& pool, int count) {
  const std::string key = lower(pool.id);
  creating_pools_.insert(key);
  struct Created {
    std::string id;
    std::string token;
  };
  std::vector<store::Record> records;
  std::vector<store::Record> credentials;
  auto created = std::make_shared<std::vector<Created>>();
  const TimePoint now = clock_.now();
  for (int i = 0; i < count; ++i) {
    NewNode spec;
    std::string uuid = encoding::uuid_v4();
    uuid.erase(std::remove(uuid.begin(), uuid.end(), '-'), uuid.end());
    spec.id = "tvmps_" + uuid.substr(0, 16);
    spec.pool_id = pool.id;
    spec.url = node_url(pool.id, spec.id);
    spec.vm_size = pool.vm_size;
    spec.ip_address = "127.0.0.1";
    spec.hostname = spec.id;
    spec.provisioner = "local";
    spec.image_reference = pool.image_reference;
    spec.state = "starting";
    const std::string token = auth::new_bearer_token(spec.id);
    records.push_back(
        store::Record{spec.id, pool.id, spec.state, dump_entity(make_node(spec, now)), 0});
    credentials.push_back(
        store::credential_record(store::kNodeCredential, spec.id, token, pool.id));
    created->push_back({spec.id, token});
    // Its identity is on its way (written once the creation commits): reconcile must not
    // mint another token for it meanwhile.
    identity_in_flight_.insert(spec.id);
  }
  const std::string pool_id = pool.id;
  store_.submit(
      [records, credentials, pool_id](store::Writer& w) mutable {
        auto pool_record = w.get(Table::Pools, "", pool_id);
        if (!pool_record || pool_record->state != "active") return false;
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (!w.insert(Table::Nodes, records[i]) || !store::put_credential(w, credentials[i]))
            return false;
        }
        return true;
      },
      [this, created, key, pool_id](const Status& status) {
        asio::post(strand_, [this, created, key, pool_id, ok = status.has_value()] {
          creating_pools_.erase(key);
          for (const auto& c : *created) identity_in_flight_.erase(c.id);
          if (ok) {
            for (const auto& c : *created) {
              // The feed delivered the node before this completion; it may already be leaving
              // (the pool shrank meanwhile), and then it gets no agent.
              const NodeInfo* node = find_node(c.id);
              if (!node || node->leaving) continue;
              if (local_agents_->write_identity(pool_id, c.id, c.token))
                local_agents_->ensure(pool_id, c.id);
            }
            spdlog::info("pool {}: created {} local nodes", pool_id, created->size());
          }
          reconcile_pools();
        });
      });
}

void Engine::ensure_local_agent(const NodeInfo& node) {
  if (identity_in_flight_.count(node.id)) return;
  if (local_agents_->has_identity(node.pool_id, node.id)) {
    local_agents_->ensure(node.pool_id, node.id);
    return;
  }
  // A local node whose identity file is gone (data directory restored, or a crash between the
  // commit and the write): mint a new token, store its digest, then write the file.
  identity_in_flight_.insert(node.id);
  const std::string token = auth::new_bearer_token(node.id);
  auto credential = store::credential_record(store::kNodeCredential, node.id, token, node.pool_id);
  store_.submit(
      [credential](store::Writer& w) { return store::put_credential(w, credential); },
      [this, node_id = node.id, pool_id = node.pool_id, token](const Status& status) {
        asio::post(strand_, [this, node_id, pool_id, token, ok = status.has_value()] {
          identity_in_flight_.erase(node_id);
          if (ok && find_node(node_id) && local_agents_->write_identity(pool_id, node_id, token)) {
            local_agents_->ensure(pool_id, node_id);
          }
        });
      });
}

void Engine::remove_node(const std::string& node_id) {
  NodeInfo* node = find_node(node_id);
  if (!node || removing_nodes_.count(node_id)) return;
  node->leaving = true;
  node->state = "leavingpool";
  members_.remove(lower(node->pool_id), node_id);
  removing_nodes_.insert(node_id);
  std::vector<std::string> ids;
  std::vector<AttemptInfo> infos;
  for (const auto& id : node->attempts) {
    auto it = attempts_.find(id);
    if (it == attempts_.end()) continue;
    it->second.finishing = true;
    ids.push_back(id);
    infos.push_back(it->second);
  }
  auto results = std::make_shared<std::vector<RequeuedTask>>(ids.size());
  const TimePoint now = clock_.now();
  const std::string pool_id = node->pool_id;
  spdlog::info("node {} of pool {}: leaving ({} attempts requeued)", node_id, pool_id, ids.size());
  store_.submit(
      [results, ids, infos, pool_id, node_id, now](store::Writer& w) {
        for (std::size_t i = 0; i < ids.size(); ++i) {
          if (!requeue_if_current(w, infos[i].job_id, infos[i].task_id, ids[i], now, (*results)[i]))
            return false;
        }
        w.erase(Table::Nodes, pool_id, node_id);
        w.erase(Table::Credentials, store::kNodeCredential, node_id);
        return true;
      },
      [this, results, ids, infos, node_id, pool_id](const Status& status) {
        asio::post(strand_, [this, results, ids, infos, node_id, pool_id, ok = status.has_value()] {
          removing_nodes_.erase(node_id);
          NodeInfo* leaving = find_node(node_id);
          if (!ok) {
            for (const auto& id : ids) {
              if (auto it = attempts_.find(id); it != attempts_.end()) it->second.finishing = false;
            }
            if (leaving) {
              leaving->leaving = false;
              members_.add(lower(leaving->pool_id), node_id);
            }
            return;
          }
          for (std::size_t i = 0; i < ids.size(); ++i) {
            if (leaving && leaving->linked)
              send(*leaving, protocol::Cancel{ids[i], protocol::CancelReason::NodeRemoved});
            forget_attempt(ids[i], infos[i], (*results)[i]);
          }
          const bool local = leaving && leaving->provisioner == "local";
          if (leaving && leaving->link)
            leaving->link->close(1000, "the node was removed from the pool");
          nodes_.erase(node_id);
          if (local && local_agents_) local_agents_->stop(pool_id, node_id, true);
          schedule_round();
        });
      });
}

}  // namespace openbatch::nodes
