#include "scheduler/api/listing.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/odata/filter.hpp"
#include "scheduler/odata/select.hpp"

#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include <charconv>

namespace openbatch::api {
namespace {

// Rows a filtered page may examine before it answers with what it has and a nextLink.
constexpr std::size_t kFilterScanBudget = 20000;

Result<int64_t> parse_skip_token(const RequestContext& ctx) {
  auto token = ctx.query_param("$skiptoken");
  if (!token) return int64_t{0};
  int64_t value = 0;
  auto [p, ec] = std::from_chars(token->data(), token->data() + token->size(), value);
  if (ec != std::errc() || p != token->data() + token->size() || value < 0) {
    return errors::invalid_query("$skiptoken", *token, "The continuation token is not valid.");
  }
  return value;
}

}  // namespace

std::string next_link(const RequestContext& ctx, std::string_view token) {
  boost::urls::url link(ctx.base_url);
  link.set_encoded_path(ctx.raw_path);
  auto params = link.params();
  for (const auto& [name, value] : ctx.query) {
    if (text::iequals(name, "$skiptoken")) continue;
    params.append({name, value});
  }
  params.append({"$skiptoken", token});
  return std::string(link.buffer());
}

Result<std::size_t> parse_max_results(const RequestContext& ctx, std::size_t default_max,
                                      std::size_t max_max) {
  auto raw = ctx.query_param("maxresults");
  if (!raw) return default_max;
  long long value = 0;
  auto [p, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
  if (ec != std::errc() || p != raw->data() + raw->size()) {
    return errors::invalid_query("maxresults", *raw, "maxresults must be an integer.");
  }
  if (value < 1 || static_cast<unsigned long long>(value) > max_max) {
    return Error(400, "OutOfRangeQueryParameterValue",
                 "One of the query parameters specified in the request URI is outside the "
                 "permissible range.",
                 {{"QueryParameterName", "maxresults"},
                  {"QueryParameterValue", std::string(*raw)},
                  {"Reason", "maxresults must be between 1 and " + std::to_string(max_max) + "."}});
  }
  return static_cast<std::size_t>(value);
}

Status check_expand(const RequestContext& ctx) {
  auto expand = ctx.query_param("$expand");
  if (!expand || expand->empty() || text::iequals(*expand, "stats")) return {};
  return errors::invalid_query("$expand", *expand, "Only 'stats' can be expanded.");
}

HttpResponse entity_response(const RequestContext& ctx, const nlohmann::json& entity,
                             std::string_view metadata_name) {
  if (auto pre = check_preconditions(ctx, entity, true); !pre)
    return error_response(ctx, pre.error());
  if (auto e = check_expand(ctx); !e) return error_response(ctx, e.error());
  nlohmann::json out = entity;
  if (auto sel = ctx.query_param("$select"); sel && !sel->empty()) {
    auto parsed = odata::parse_select(*sel);
    if (!parsed) return error_response(ctx, parsed.error());
    out = odata::apply_select(entity, *parsed);
  }
  out["odata.metadata"] = ctx.base_url + "/$metadata#" + std::string(metadata_name) + "/@Element";
  auto res = json_response(ctx, http::status::ok, dump_json(out));
  set_entity_headers(res, entity.value("eTag", ""), entity.value("lastModified", ""));
  return res;
}

HttpResponse list_entities(const RequestContext& ctx, Services& services, const ListSpec& spec) {
  auto max_results = parse_max_results(ctx, spec.default_max, spec.max_max);
  if (!max_results) return error_response(ctx, max_results.error());
  auto after = parse_skip_token(ctx);
  if (!after) return error_response(ctx, after.error());
  if (auto s = check_expand(ctx); !s) return error_response(ctx, s.error());

  std::optional<odata::Filter> filter;
  if (auto text = ctx.query_param("$filter"); text && !text->empty()) {
    auto parsed = odata::parse_filter_for(*text, spec.metadata_name);
    if (!parsed) return error_response(ctx, parsed.error());
    filter = std::move(*parsed);
  }
  std::optional<odata::Select> select;
  if (auto text = ctx.query_param("$select"); text && !text->empty()) {
    auto parsed = odata::parse_select(*text);
    if (!parsed) return error_response(ctx, parsed.error());
    select = std::move(*parsed);
  }

  store::ListQuery query;
  query.table = spec.table;
  query.parent = spec.parent;
  query.after_seq = *after;
  if (filter) query.state = filter->state_equals();

  std::string body = "{\"odata.metadata\":\"" + ctx.base_url + "/$metadata#" + spec.metadata_name +
                     "\",\"value\":[";
  std::size_t emitted = 0;
  std::size_t scanned = 0;
  bool more = false;
  int64_t last_seq = *after;
  auto reader = services.store.reader();
  while (emitted < *max_results) {
    // Without a filter every row is emitted: fetch one extra row to learn whether more exist.
    query.limit = filter ? std::min<std::size_t>(1000, kFilterScanBudget - scanned)
                         : *max_results - emitted + 1;
    auto rows = reader->list(query);
    std::size_t used = 0;
    for (auto& row : rows) {
      if (emitted == *max_results) {
        more = true;
        break;
      }
      ++used;
      last_seq = row.seq;
      if (filter || select) {
        auto entity = nlohmann::json::parse(row.body, nullptr, false);
        if (entity.is_discarded()) continue;
        if (filter && !filter->matches(entity)) continue;
        if (emitted++) body += ',';
        body += select ? dump_json(odata::apply_select(entity, *select)) : row.body;
      } else {
        if (emitted++) body += ',';
        body += row.body;
      }
    }
    scanned += used;
    if (more) break;
    if (rows.size() < query.limit) break;  // the table is exhausted
    query.after_seq = last_seq;
    if (filter && scanned >= kFilterScanBudget) {
      more = true;
      break;
    }
  }
  if (!more && emitted == *max_results) {
    // Exactly full page: there may be more rows; only link when one exists.
    store::ListQuery probe = query;
    probe.after_seq = last_seq;
    probe.limit = 1;
    more = !reader->list(probe).empty();
  }
  body += ']';
  if (more) body += ",\"odata.nextLink\":\"" + next_link(ctx, std::to_string(last_seq)) + "\"";
  body += '}';
  return json_response(ctx, http::status::ok, std::move(body));
}

}  // namespace openbatch::api
