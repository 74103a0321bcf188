#include "scheduler/provision/provisioner.hpp"

#include "common/auth/bearer_token.hpp"
#include "common/encoding.hpp"
#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace openbatch::provision {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::AttemptInfo;
using cluster::NodeInfo;
using cluster::RequeuedTask;
using store::Table;

void Provisioner::poll_agents() {
  if (local_agents_) local_agents_->poll();
}

void Provisioner::stop_agents() {
  if (local_agents_) local_agents_->stop_all();
}

void Provisioner::reconcile_pools() {
  if (ctx_.stopped || ctx_.loading) return;
  for (auto& [key, pool] : ctx_.model.pools) reconcile_pool(key, pool);
}

void Provisioner::schedule_reconcile(const std::string& pool_key) {
  ctx_.model.members.mark_dirty(pool_key);
  if (reconcile_scheduled_ || ctx_.stopped) return;
  reconcile_scheduled_ = true;
  asio::post(ctx_.strand, [this] { reconcile_dirty_pools(); });
}

void Provisioner::reconcile_dirty_pools() {
  reconcile_scheduled_ = false;
  if (ctx_.stopped || ctx_.loading) return;  // load() reconciles every pool once it is done
  for (const auto& key : ctx_.model.members.take_dirty()) {
    auto it = ctx_.model.pools.find(key);
    if (it != ctx_.model.pools.end()) reconcile_pool(key, it->second);
  }
}

// Costs nothing for a pool at its target (the count is kept, not counted), except a local
// pool, whose agents are checked one by one.
void Provisioner::reconcile_pool(const std::string& key, const cluster::PoolInfo& pool) {
  const std::set<std::string>& ids = ctx_.model.members.members(key);
  const int have = static_cast<int>(ids.size());
  if (pool.state != PoolState::Deleting && have <= pool.target_nodes &&
      !(pool.provisioner == "local" && local_agents_))
    return;
  std::vector<NodeInfo*> nodes;  // copied: remove_node() changes the membership
  nodes.reserve(ids.size());
  for (const auto& id : ids) {
    if (NodeInfo* node = ctx_.model.find_node(id)) nodes.push_back(node);
  }
  if (pool.state == PoolState::Deleting) {
    for (NodeInfo* node : nodes) remove_node(node->id);
    return;
  }
  if (have > pool.target_nodes) {
    shrink(nodes, pool.target_nodes);
    return;
  }
  if (have < pool.target_nodes && !creating_pools_.count(key))
    create_local_nodes(pool, pool.target_nodes - have);
  for (NodeInfo* node : nodes) {
    if (node->provisioner == "local") ensure_local_agent(*node);
  }
}

// Idle nodes go first, then the least busy; ties by id for a stable choice.
void Provisioner::shrink(std::vector<NodeInfo*>& nodes, int target) {
  std::sort(nodes.begin(), nodes.end(), [](const NodeInfo* a, const NodeInfo* b) {
    if (a->attempts.size() != b->attempts.size()) return a->attempts.size() < b->attempts.size();
    return a->id > b->id;
  });
  const int have = static_cast<int>(nodes.size());
  for (int i = 0; i < have - target; ++i) remove_node(nodes[i]->id);
}

void Provisioner::create_local_nodes(const cluster::PoolInfo& pool, int count) {
  const std::string key = cluster::lower(pool.id);
  creating_pools_.insert(key);
  std::vector<store::Record> records;
  std::vector<store::Record> credentials;
  auto created = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  const TimePoint now = ctx_.clock.now();
  for (int i = 0; i < count; ++i) {
    NewNode spec;
    std::string uuid = encoding::uuid_v4();
    uuid.erase(std::remove(uuid.begin(), uuid.end(), '-'), uuid.end());
    spec.id = "tvmps_" + uuid.substr(0, 16);
    spec.pool_id = pool.id;
    spec.url = ctx_.node_url(pool.id, spec.id);
    spec.vm_size = pool.vm_size;
    spec.ip_address = "127.0.0.1";
    spec.hostname = spec.id;
    spec.provisioner = "local";
    spec.image_reference = pool.image_reference;
    spec.state = to_string(NodeState::Starting);
    const std::string token = auth::new_bearer_token(spec.id);
    records.push_back(
        store::Record{spec.id, pool.id, spec.state, cluster::dump_entity(make_node(spec, now)), 0});
    credentials.push_back(
        store::credential_record(store::kNodeCredential, spec.id, token, pool.id));
    created->emplace_back(spec.id, token);
    // Its identity is on its way (written once the creation commits): reconcile must not
    // mint another token for it meanwhile.
    identity_in_flight_.insert(spec.id);
  }
  ctx_.store.submit(
      [records, credentials, pool_id = pool.id](store::Writer& w) mutable {
        auto pool_record = w.get(Table::Pools, "", pool_id);
        if (!pool_record || pool_record->state != to_string(PoolState::Active)) return false;
        for (std::size_t i = 0; i < records.size(); ++i) {
          if (!w.insert(Table::Nodes, records[i]) || !store::put_credential(w, credentials[i]))
            return false;
        }
        return true;
      },
      [this, created, key, pool_id = pool.id](const Status& status) {
        asio::post(ctx_.strand, [this, created, key, pool_id, ok = status.has_value()] {
          on_created(*created, key, pool_id, ok);
        });
      });
}

void Provisioner::on_created(const std::vector<std::pair<std::string, std::string>>& created,
                             const std::string& key, const std::string& pool_id, bool ok) {
  creating_pools_.erase(key);
  for (const auto& [id, token] : created) identity_in_flight_.erase(id);
  if (ok) {
    for (const auto& [id, token] : created) {
      // The feed delivered the node before this completion; it may already be leaving (the
      // pool shrank meanwhile), and then it gets no agent.
      const NodeInfo* node = ctx_.model.find_node(id);
      if (!node || node->leaving) continue;
      if (local_agents_->write_identity(pool_id, id, token)) local_agents_->ensure(pool_id, id);
    }
    spdlog::info("pool {}: created {} local nodes", pool_id, created.size());
  }
  reconcile_pools();
}

void Provisioner::ensure_local_agent(const NodeInfo& node) {
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
  ctx_.store.submit([credential](store::Writer& w) { return store::put_credential(w, credential); },
                    [this, node_id = node.id, pool_id = node.pool_id, token](const Status& status) {
                      asio::post(ctx_.strand,
                                 [this, node_id, pool_id, token, ok = status.has_value()] {
                                   identity_in_flight_.erase(node_id);
                                   if (ok && ctx_.model.find_node(node_id) &&
                                       local_agents_->write_identity(pool_id, node_id, token)) {
                                     local_agents_->ensure(pool_id, node_id);
                                   }
                                 });
                    });
}

// ---- a node leaving its pool ----

struct Provisioner::Removal {
  std::string node_id;
  std::string pool_id;
  std::vector<std::string> ids;
  std::vector<AttemptInfo> infos;
  std::vector<RequeuedTask> results;  // filled by the commit
};

void Provisioner::remove_node(const std::string& node_id) {
  NodeInfo* node = ctx_.model.find_node(node_id);
  if (!node || removing_nodes_.count(node_id)) return;
  node->leaving = true;
  node->state = NodeState::LeavingPool;
  ctx_.model.members.remove(cluster::lower(node->pool_id), node_id);
  removing_nodes_.insert(node_id);
  auto r = std::make_shared<Removal>();
  r->node_id = node_id;
  r->pool_id = node->pool_id;
  for (const auto& id : node->attempts) {
    auto it = ctx_.model.attempts.find(id);
    if (it == ctx_.model.attempts.end()) continue;
    it->second.finishing = true;
    r->ids.push_back(id);
    r->infos.push_back(it->second);
  }
  r->results.resize(r->ids.size());
  spdlog::info("node {} of pool {}: leaving ({} attempts requeued)", node_id, r->pool_id,
               r->ids.size());
  ctx_.store.submit(
      [r, now = ctx_.clock.now()](store::Writer& w) {
        for (std::size_t i = 0; i < r->ids.size(); ++i) {
          if (!cluster::requeue_if_current(w, r->infos[i].job_id, r->infos[i].task_id, r->ids[i],
                                           now, r->results[i]))
            return false;
        }
        w.erase(Table::Nodes, r->pool_id, r->node_id);
        w.erase(Table::Credentials, store::kNodeCredential, r->node_id);
        return true;
      },
      [this, r](const Status& status) {
        asio::post(ctx_.strand, [this, r, ok = status.has_value()] { on_removed(*r, ok); });
      });
}

void Provisioner::on_removed(const Removal& r, bool ok) {
  removing_nodes_.erase(r.node_id);
  NodeInfo* leaving = ctx_.model.find_node(r.node_id);
  if (!ok) {
    for (const auto& id : r.ids) {
      if (auto it = ctx_.model.attempts.find(id); it != ctx_.model.attempts.end())
        it->second.finishing = false;
    }
    if (leaving) {
      leaving->leaving = false;
      ctx_.model.members.add(cluster::lower(leaving->pool_id), r.node_id);
    }
    return;
  }
  for (std::size_t i = 0; i < r.ids.size(); ++i) {
    if (leaving && leaving->linked)
      ctx_.wiring->send(*leaving, protocol::Cancel{r.ids[i], protocol::CancelReason::NodeRemoved});
    ctx_.wiring->forget_attempt(r.ids[i], r.infos[i], r.results[i]);
  }
  const bool local = leaving && leaving->provisioner == "local";
  if (leaving && leaving->link)
    ctx_.wiring->close_link(*leaving, 1000, "the node was removed from the pool");
  ctx_.model.nodes.erase(r.node_id);
  if (local && local_agents_) local_agents_->stop(r.pool_id, r.node_id, true);
  ctx_.wiring->schedule_round();
}

}  // namespace openbatch::provision
