// Account-level routes: /supportedimages (from the images/ catalog) and /nodecounts (node
// states per pool), plus the read-only /applications data plane.
#include "common/text/ascii.hpp"
#include "scheduler/api/application_admin.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/odata/filter.hpp"
#include "scheduler/packages/applications.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <optional>

namespace openbatch::api {
namespace {

using nlohmann::json;

Result<std::optional<odata::Filter>> filter_of(const RequestContext& ctx, std::string_view entity) {
  auto text = ctx.query_param("$filter");
  if (!text || text->empty()) return std::optional<odata::Filter>{};
  auto parsed = odata::parse_filter_for(*text, entity);
  if (!parsed) return parsed.error();
  return std::optional<odata::Filter>{std::move(*parsed)};
}

Result<std::size_t> skip_of(const RequestContext& ctx) {
  auto token = ctx.query_param("$skiptoken");
  std::size_t skip = 0;
  if (token &&
      std::from_chars(token->data(), token->data() + token->size(), skip).ec != std::errc()) {
    return errors::invalid_query("$skiptoken", *token, "The continuation token is not valid.");
  }
  return skip;
}

HttpResponse supported_images(const RequestContext& ctx, Services& s) {
  auto max_results = parse_max_results(ctx, 1000, 1000);
  if (!max_results) return error_response(ctx, max_results.error());
  auto filter = filter_of(ctx, "supportedimages");
  if (!filter) return error_response(ctx, filter.error());
  auto skip = skip_of(ctx);
  if (!skip) return error_response(ctx, skip.error());
  json value = json::array();
  std::size_t index = 0;
  bool more = false;
  for (const auto& image : s.catalog.images()) {
    json wire = catalog::to_wire(image);
    if (*filter && !(*filter)->matches(wire)) continue;
    if (index++ < *skip) continue;
    if (value.size() == *max_results) {
      more = true;
      break;
    }
    value.push_back(std::move(wire));
  }
  json body = {{"odata.metadata", ctx.base_url + "/$metadata#supportedimages"},
               {"value", std::move(value)}};
  if (more) body["odata.nextLink"] = next_link(ctx, std::to_string(*skip + *max_results));
  return json_response(ctx, http::status::ok, dump_json(body));
}

json zero_counts() {
  json c;
  for (const char* k :
       {"creating", "idle", "offline", "preempted", "rebooting", "reimaging", "running", "starting",
        "startTaskFailed", "leavingPool", "unknown", "unusable", "waitingForStartTask", "total"}) {
    c[k] = 0;
  }
  return c;
}

// Node states are lowercase on the wire; nodecounts keys are camelCase. States NodeCounts has
// no key for count as unknown.
const char* count_key(const std::string& state) {
  using domain::NodeState;
  switch (domain::parse_node_state(state).value_or(NodeState::Unknown)) {
    case NodeState::Creating:
      return "creating";
    case NodeState::Idle:
      return "idle";
    case NodeState::Offline:
      return "offline";
    case NodeState::Preempted:
      return "preempted";
    case NodeState::Rebooting:
      return "rebooting";
    case NodeState::Reimaging:
      return "reimaging";
    case NodeState::Running:
      return "running";
    case NodeState::Starting:
      return "starting";
    case NodeState::StartTaskFailed:
      return "startTaskFailed";
    case NodeState::LeavingPool:
      return "leavingPool";
    case NodeState::Unusable:
      return "unusable";
    case NodeState::WaitingForStartTask:
      return "waitingForStartTask";
    case NodeState::Unknown:
    case NodeState::UpgradingOs:
    case NodeState::Deallocated:
    case NodeState::Deallocating:
      break;
  }
  return "unknown";
}

// One pool's NodeCounts entry (all nodes are dedicated: OpenBatch has no spot nodes).
json pool_node_counts(store::Reader& reader, const std::string& pool_id) {
  json entry = {{"poolId", pool_id}, {"dedicated", zero_counts()}, {"lowPriority", zero_counts()}};
  json& dedicated = entry["dedicated"];
  store::ListQuery q{store::Table::Nodes, pool_id, std::nullopt, 0, 1000};
  for (;;) {
    auto nodes = reader.list(q);
    for (const auto& n : nodes) {
      auto& slot = dedicated[count_key(n.state)];
      slot = slot.get<int>() + 1;
      dedicated["total"] = dedicated["total"].get<int>() + 1;
      q.after_seq = n.seq;
    }
    if (nodes.size() < q.limit) break;
  }
  return entry;
}

HttpResponse node_counts(const RequestContext& ctx, Services& s) {
  auto max_results = parse_max_results(ctx, 10, 10);
  if (!max_results) return error_response(ctx, max_results.error());
  auto filter = filter_of(ctx, "nodecounts");
  if (!filter) return error_response(ctx, filter.error());
  auto after = skip_of(ctx);
  if (!after) return error_response(ctx, after.error());
  auto reader = s.store.reader();
  store::ListQuery pools_query{store::Table::Pools, std::string(), std::nullopt,
                               static_cast<int64_t>(*after), 1000};
  if (*filter) {
    if (auto pool_id = (*filter)->string_equals("poolId")) {
      // One pool: no scan of the others.
      json value = json::array();
      if (auto pool = reader->get(store::Table::Pools, "", *pool_id)) {
        json entry = pool_node_counts(*reader, pool->id);
        if ((*filter)->matches(entry)) value.push_back(std::move(entry));
      }
      json body = {{"odata.metadata", ctx.base_url + "/$metadata#poolnodecounts"},
                   {"value", std::move(value)}};
      return json_response(ctx, http::status::ok, dump_json(body));
    }
  }
  json value = json::array();
  bool more = false;
  int64_t last = static_cast<int64_t>(*after);
  for (;;) {
    auto pools = reader->list(pools_query);
    for (const auto& p : pools) {
      if (value.size() == *max_results) {
        more = true;
        break;
      }
      last = p.seq;
      json entry = pool_node_counts(*reader, p.id);
      if (*filter && !(*filter)->matches(entry)) continue;
      value.push_back(std::move(entry));
    }
    if (more || pools.size() < pools_query.limit) break;
    pools_query.after_seq = last;
  }
  json body = {{"odata.metadata", ctx.base_url + "/$metadata#poolnodecounts"},
               {"value", std::move(value)}};
  if (more) body["odata.nextLink"] = next_link(ctx, std::to_string(last));
  return json_response(ctx, http::status::ok, dump_json(body));
}

// ApplicationSummary: only active versions are listed (Azure: "only Applications and versions
// that are available for use on Compute Nodes"); an application without one is not listed.
std::optional<json> application_summary(const json& app) {
  json versions = packages::active_versions(app);
  if (versions.empty()) return std::nullopt;
  return json{{"id", app.value("id", "")},
              {"displayName", app.value("displayName", app.value("id", ""))},
              {"versions", std::move(versions)}};
}

}  // namespace

RouteResult applications_route(const RequestContext& ctx, Services& s) {
  if (ctx.method != "GET" || ctx.segments.size() > 2)
    co_return co_await application_admin_route(ctx, s);
  if (ctx.segments.size() == 1) {
    auto max_results = parse_max_results(ctx, 1000, 1000);
    if (!max_results) co_return error_response(ctx, max_results.error());
    auto reader = s.store.reader();
    json value = json::array();
    store::ListQuery q{store::Table::Applications, std::string(), std::nullopt, 0, 1000};
    for (bool more = true; more && value.size() < *max_results;) {
      auto rows = reader->list(q);
      more = rows.size() == q.limit;
      for (const auto& r : rows) {
        q.after_seq = r.seq;
        auto app = json::parse(r.body, nullptr, false);
        if (app.is_discarded()) continue;
        if (auto summary = application_summary(app)) value.push_back(std::move(*summary));
        if (value.size() == *max_results) break;
      }
    }
    json body = {{"odata.metadata", ctx.base_url + "/$metadata#applications"},
                 {"value", std::move(value)}};
    co_return json_response(ctx, http::status::ok, dump_json(body));
  }
  auto reader = s.store.reader();
  auto app = load_entity(*reader, store::Table::Applications, "", ctx.segments[1]);
  std::optional<json> out;
  if (app) out = application_summary(*app);
  if (!out) {
    co_return error_response(
        ctx, errors::not_found("ApplicationNotFound", "The specified application does not exist."));
  }
  (*out)["odata.metadata"] = ctx.base_url + "/$metadata#applications/@Element";
  co_return json_response(ctx, http::status::ok, dump_json(*out));
}

RouteResult account_route(const RequestContext& ctx, Services& s) {
  if (ctx.segments.size() != 1) co_return invalid_uri(ctx);
  if (ctx.method != "GET") co_return unsupported_verb(ctx);
  if (text::to_lower(ctx.segments[0]) == "supportedimages") co_return supported_images(ctx, s);
  co_return node_counts(ctx, s);
}

}  // namespace openbatch::api
