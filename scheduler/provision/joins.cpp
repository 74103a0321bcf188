#include "scheduler/provision/joins.hpp"

#include "common/auth/bearer_token.hpp"
#include "common/encoding.hpp"
#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace openbatch::provision {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
namespace asio = boost::asio;
using cluster::lower;
using nlohmann::json;
using store::Table;

const cluster::PoolInfo* Joins::admit(const JoinRequest& request,
                                      std::function<void(Result<JoinAnswer>)>& done) {
  // An unknown pool and a wrong token get the same answer, so that an unauthenticated caller
  // cannot tell which pool ids exist; the log says which it was.
  const cluster::PoolInfo* pool = ctx_.model.find_pool(request.pool_id);
  const bool pool_joinable = pool && pool->state == PoolState::Active;
  bool token_valid = false;
  {
    auto reader = ctx_.store.reader();
    token_valid = store::credential_matches(
        *reader, store::kJoinCredential, pool_joinable ? pool->id : request.pool_id, request.token);
  }
  if (!pool_joinable || !token_valid) {
    spdlog::info("join refused for pool '{}': {}", request.pool_id.substr(0, 64),
                 !pool_joinable ? "no such active pool" : "wrong join token");
    done(Error(401, "AuthenticationFailed", "The pool join token is not valid for this pool."));
    return nullptr;
  }
  const std::string key = lower(pool->id);
  // A join whose node the change feed already counted (its commit answer is still on its way
  // here) must not count twice, or the last node of a pool is refused.
  const auto& members = ctx_.model.members.members(key);
  std::size_t pending = 0;
  for (const auto& id : in_flight_[key]) pending += members.count(id) ? 0 : 1;
  if (static_cast<int>(members.size() + pending) >= pool->target_nodes) {
    done(Error(409, "PoolTargetReached",
               "Pool " + pool->id + " already has its targetDedicatedNodes (" +
                   std::to_string(pool->target_nodes) + ") nodes; resize the pool to add more.",
               {{"PropertyName", "targetDedicatedNodes"}}));
    return nullptr;
  }
  return pool;
}

void Joins::join(const JoinRequest& request, std::function<void(Result<JoinAnswer>)> done) {
  const cluster::PoolInfo* admitted = admit(request, done);
  if (!admitted) return;
  const cluster::PoolInfo pool = *admitted;
  auto facts = cluster::inventory_facts_of(request.inventory);
  NewNode spec;
  spec.id = "tvmps_" + encoding::uuid_v4().substr(0, 8) + encoding::uuid_v4().substr(0, 8);
  spec.id.erase(std::remove(spec.id.begin(), spec.id.end(), '-'), spec.id.end());
  spec.pool_id = pool.id;
  spec.url = ctx_.node_url(pool.id, spec.id);
  spec.vm_size = pool.vm_size;
  spec.ip_address = !facts.address.empty() ? facts.address : request.peer_address;
  spec.hostname = request.hostname;
  spec.provisioner = "static";
  spec.image_reference = pool.image_reference;
  spec.state = to_string(NodeState::Starting);
  json node_json = make_node(spec, ctx_.clock.now());
  if (request.inventory.is_object()) {
    node_json["openbatch"]["inventory"] = request.inventory;
    // The hash the agent computes: the welcome then does not ask again for what the join sent.
    node_json["openbatch"]["inventoryHash"] = cluster::inventory_hash_of(request.inventory);
  }
  const std::string token = auth::new_bearer_token(spec.id);
  auto credential = store::credential_record(store::kNodeCredential, spec.id, token, pool.id);
  store::Record record{spec.id, pool.id, spec.state, cluster::dump_entity(node_json), 0};
  in_flight_[lower(pool.id)].insert(spec.id);
  ctx_.store.submit(
      [record, credential](store::Writer& w) mutable {
        return w.insert(Table::Nodes, record) && store::put_credential(w, credential);
      },
      [this, done = std::move(done), spec, token,
       pool_key = lower(pool.id)](const Status& status) mutable {
        asio::post(ctx_.strand, [this, done = std::move(done), spec, token, pool_key,
                                 status]() mutable {
          in_flight_[pool_key].erase(spec.id);
          if (!status) {
            done(status.error());
            return;
          }
          spdlog::info("node {} joined pool {} ({})", spec.id, spec.pool_id, spec.hostname);
          done(JoinAnswer{spec.id, token, spec.pool_id, ctx_.config.heartbeat_interval_seconds});
        });
      });
}

}  // namespace openbatch::provision
