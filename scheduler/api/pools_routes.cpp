// Pool routes: add, get, list, exists (HEAD), delete, patch, updateproperties, resize,
// stopresize, removenodes, and the autoscale verbs (refused: OpenBatch runs no autoscale).
#include "common/auth/bearer_token.hpp"
#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/entity_update.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/pool_transitions.hpp"
#include "scheduler/domain/pool_validation.hpp"
#include "scheduler/packages/resolution.hpp"
#include "scheduler/store/async_write.hpp"
#include "scheduler/store/credentials.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

using domain::AllocationState;
using domain::PoolState;
using nlohmann::json;
using store::Table;

Error pool_being_deleted() {
  return errors::conflict(
      "PoolBeingDeleted",
      "The specified pool has been marked for deletion and is being reclaimed.");
}

int target_nodes(const json& pool) {
  return pool.value("targetDedicatedNodes", 0) + pool.value("targetLowPriorityNodes", 0);
}

HttpResponse entity_reply(const RequestContext& ctx, http::status status, const json& pool) {
  auto res = empty_response(ctx, status);
  set_entity_headers(res, pool.value("eTag", ""), pool.value("lastModified", ""));
  set_data_service_id(res, pool.value("url", ""));
  return res;
}

RouteResult add_pool(const RequestContext& ctx, Services& s) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_pool_add(std::move(*body), s.catalog);
  if (!validated) co_return error_response(ctx, validated.error());
  json pool = std::move(validated->value);
  const std::string id = pool["id"];
  stamp_new(pool, s.account.public_url + "/pools/" + id, s.etags.next(), ctx.now,
            to_string(PoolState::Active));
  pool["allocationState"] =
      to_string(target_nodes(pool) > 0 ? AllocationState::Resizing : AllocationState::Steady);
  pool["allocationStateTransitionTime"] = format_iso8601(ctx.now);
  pool["currentDedicatedNodes"] = 0;
  pool["currentLowPriorityNodes"] = 0;
  auto record = make_record(pool, "");
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    if (auto refs = packages::check_package_refs(
            w, pool.value("applicationPackageReferences", json::array()));
        !refs) {
      error = refs.error();
      return false;
    }
    if (!w.insert(Table::Pools, record)) {
      error = errors::conflict("PoolExists", "The specified pool already exists.");
      return false;
    }
    return true;
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  auto res = entity_reply(ctx, http::status::created, pool);
  for (const auto& advice : validated->advisories) res.insert("x-openbatch-advisory", advice);
  co_return res;
}

HttpResponse get_pool(const RequestContext& ctx, Services& s, const std::string& id, bool head) {
  auto reader = s.store.reader();
  auto pool = load_entity(*reader, Table::Pools, "", id);
  if (!pool) return error_response(ctx, pool_not_found());
  if (head) {
    if (auto pre = check_preconditions(ctx, *pool, true); !pre)
      return error_response(ctx, pre.error());
    return entity_reply(ctx, http::status::ok, *pool);
  }
  return entity_response(ctx, *pool, "pools");
}

// update_entity for pools, refusing any change while the pool is being deleted.
template <class Mutate>
boost::asio::awaitable<Result<json>> update_pool(const RequestContext& ctx, Services& s,
                                                 const std::string& id, Mutate mutate) {
  co_return co_await update_entity(ctx, s, Table::Pools, id, pool_not_found,
                                   [&](store::Writer& w, json& pool) -> Status {
                                     if (domain::pool_state(pool) == PoolState::Deleting)
                                       return pool_being_deleted();
                                     return mutate(w, pool);
                                   });
}

RouteResult delete_pool(const RequestContext& ctx, Services& s, const std::string& id) {
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto pool = load_entity(w, Table::Pools, "", id);
    if (!pool) {
      error = pool_not_found();
      return false;
    }
    if (domain::pool_state(*pool) == PoolState::Deleting) {
      error = pool_being_deleted();
      return false;
    }
    if (auto pre = check_preconditions(ctx, *pool, false); !pre) {
      error = pre.error();
      return false;
    }
    // Deleting resizes the pool to zero, requeueing running tasks; the lifecycle sweep removes
    // the pool once its last node has left.
    domain::delete_pool(*pool, ctx.now);
    touch(*pool, s.etags.next(), ctx.now);
    return w.update(Table::Pools, make_record(*pool, ""));
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::accepted);
}

// PATCH (replace=false): fields present replace old values. updateproperties (replace=true):
// replaces all of them, an absent startTask removes it.
RouteResult patch_pool(const RequestContext& ctx, Services& s, const std::string& id,
                       bool replace) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated =
      replace ? domain::validate_pool_update_properties(*body) : domain::validate_pool_patch(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  const json& changes = *validated;
  auto result = co_await update_pool(ctx, s, id, [&](store::Writer& w, json& pool) -> Status {
    if (auto refs = changes.find("applicationPackageReferences"); refs != changes.end()) {
      if (auto ok = packages::check_package_refs(w, *refs); !ok) return ok.error();
    }
    for (const char* field : {"startTask", "applicationPackageReferences", "metadata",
                              "certificateReferences", "targetNodeCommunicationMode"}) {
      auto it = changes.find(field);
      if (it != changes.end()) {
        pool[field] = *it;
      } else if (replace && std::string_view(field) == "startTask") {
        pool.erase(field);
      }
    }
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, replace ? http::status::no_content : http::status::ok, *result);
}

RouteResult resize_pool(const RequestContext& ctx, Services& s, const std::string& id) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_pool_resize(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  const json& resize = *validated;
  auto result = co_await update_pool(ctx, s, id, [&](store::Writer&, json& pool) -> Status {
    return domain::resize_pool(pool, resize, ctx.now);
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult stop_resize(const RequestContext& ctx, Services& s, const std::string& id) {
  auto result = co_await update_pool(ctx, s, id, [&](store::Writer&, json& pool) -> Status {
    return domain::stop_resize(pool, ctx.now);
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult remove_nodes(const RequestContext& ctx, Services& s, const std::string& id) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_pool_remove_nodes(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  const json& request = *validated;
  auto result = co_await update_pool(ctx, s, id, [&](store::Writer& w, json& pool) -> Status {
    if (auto steady = domain::pool_accepts_node_removal(pool); !steady) return steady;
    std::vector<json> nodes;
    for (const auto& node_id : request["nodeList"]) {
      auto node = load_entity(w, Table::Nodes, id, node_id.get<std::string>());
      if (!node)
        return errors::not_found("NodeNotFound", "The node " + node_id.get<std::string>() +
                                                     " does not exist in the pool.");
      nodes.push_back(std::move(*node));
    }
    for (auto& node : nodes) {
      domain::leave_pool(node, request.value("nodeDeallocationOption", "requeue"), ctx.now);
      touch(node, s.etags.next(), ctx.now);
      if (!w.update(Table::Nodes, make_record(node, id)))
        return errors::internal("node update failed");
    }
    domain::shrink_for_removed_nodes(pool, static_cast<int>(nodes.size()), ctx.now);
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

// POST /pools/{id}/jointoken (OpenBatch): a new join token for agents on other machines
// (static provisioning). It is shown once, here; only its digest is kept, and it replaces the
// pool's previous join token (nodes that already joined keep their own node tokens).
RouteResult new_join_token(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto pool = load_entity(*reader, Table::Pools, "", id);
  reader.reset();
  if (!pool) co_return error_response(ctx, pool_not_found());
  if (domain::pool_state(*pool) != PoolState::Active) {
    co_return error_response(
        ctx, errors::conflict(
                 "PoolBeingDeleted",
                 "The specified pool has been marked for deletion and is being reclaimed."));
  }
  const std::string pool_id = pool->value("id", id);
  const std::string token = auth::new_bearer_token(pool_id);
  auto record = store::credential_record(store::kJoinCredential, pool_id, token, pool_id);
  bool found = true;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto current = w.get(Table::Pools, "", pool_id);
    if (!current || current->state != to_string(PoolState::Active)) {
      found = false;
      return false;
    }
    return store::put_credential(w, record);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!found) co_return error_response(ctx, pool_not_found());
  nlohmann::json body = {
      {"poolId", pool_id}, {"joinToken", token}, {"schedulerUrl", s.account.public_url}};
  co_return json_response(ctx, http::status::ok, dump_json(body));
}

}  // namespace

RouteResult pools_route(const RequestContext& ctx, Services& s) {
  const auto& seg = ctx.segments;
  const std::string& m = ctx.method;
  if (seg.size() == 1) {
    if (m == "GET") co_return list_entities(ctx, s, {Table::Pools, "", "pools"});
    if (m == "POST") co_return co_await add_pool(ctx, s);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() >= 3 && seg[2] == "nodes") co_return co_await nodes_route(ctx, s);
  const std::string& id = seg[1];
  if (seg.size() == 2) {
    if (m == "GET" || m == "HEAD") co_return get_pool(ctx, s, id, m == "HEAD");
    if (m == "DELETE") co_return co_await delete_pool(ctx, s, id);
    if (m == "PATCH") co_return co_await patch_pool(ctx, s, id, false);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() != 3) co_return invalid_uri(ctx);
  if (m != "POST") co_return unsupported_verb(ctx);
  const std::string action = text::to_lower(seg[2]);
  if (action == "updateproperties") co_return co_await patch_pool(ctx, s, id, true);
  if (action == "resize") co_return co_await resize_pool(ctx, s, id);
  if (action == "stopresize") co_return co_await stop_resize(ctx, s, id);
  if (action == "removenodes") co_return co_await remove_nodes(ctx, s, id);
  if (action == "jointoken") co_return co_await new_join_token(ctx, s, id);
  if (action == "enableautoscale" || action == "disableautoscale" ||
      action == "evaluateautoscale") {
    auto reader = s.store.reader();
    if (!load_entity(*reader, Table::Pools, "", id))
      co_return error_response(ctx, pool_not_found());
    co_return error_response(
        ctx,
        errors::conflict(
            "OperationNotValidOnPool",
            "Autoscale is not supported by OpenBatch; resize the pool with targetDedicatedNodes."));
  }
  co_return invalid_uri(ctx);
}

}  // namespace openbatch::api
