// Compute node routes: list and get (node records are written by the node registry when
// agents join); node files are delegated to files_route.
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {

RouteResult nodes_route(const RequestContext& ctx, Services& s) {
  const auto& seg = ctx.segments;  // pools/{p}/nodes[/{n}[/files...]]
  auto reader = s.store.reader();
  auto pool = reader->get(store::Table::Pools, "", seg[1]);
  if (!pool) co_return error_response(ctx, pool_not_found());
  if (seg.size() == 3) {
    if (ctx.method != "GET") co_return unsupported_verb(ctx);
    co_return list_entities(ctx, s, {store::Table::Nodes, pool->id, "nodes"});
  }
  if (seg.size() >= 5 && seg[4] == "files") {
    reader.reset();
    co_return co_await files_route(ctx, s);
  }
  if (seg.size() != 4) co_return invalid_uri(ctx);
  if (ctx.method != "GET") co_return unsupported_verb(ctx);
  auto node = load_entity(*reader, store::Table::Nodes, pool->id, seg[3]);
  if (!node) co_return error_response(ctx, node_not_found());
  co_return entity_response(ctx, *node, "nodes");
}

}  // namespace openbatch::api
