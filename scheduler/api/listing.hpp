// Listing entities with Azure's list semantics: `maxresults` pages, `$filter` (pushed down to
// the store's state index when it pins `state`), `$select`, and an absolute `odata.nextLink`
// carrying the continuation ($skiptoken = last seq seen) plus the original query, which the
// client GETs verbatim. A filtered page scans a bounded number of rows, so a page may hold
// fewer than maxresults entities and still link to the next one (Azure does the same).
#pragma once

#include "common/error.hpp"
#include "scheduler/api/http_types.hpp"
#include "scheduler/api/request_context.hpp"
#include "scheduler/api/services.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace openbatch::api {

struct ListSpec {
  store::Table table;
  std::string parent;         // "" for top-level tables
  std::string metadata_name;  // odata.metadata fragment: "pools", "tasks", ...
  std::size_t default_max = 1000;
  std::size_t max_max = 1000;
};

HttpResponse list_entities(const RequestContext& ctx, Services& services, const ListSpec& spec);

// The answer to a GET of one entity: conditional headers (304), `$expand` and `$select`
// checked and applied, odata.metadata added, ETag and Last-Modified set.
HttpResponse entity_response(const RequestContext& ctx, const nlohmann::json& entity,
                             std::string_view metadata_name);

// Validates `maxresults` against [1, max]: absent -> default.
Result<std::size_t> parse_max_results(const RequestContext& ctx, std::size_t default_max,
                                      std::size_t max_max);

// The absolute URL of the next page: this request with $skiptoken set to `token`.
std::string next_link(const RequestContext& ctx, std::string_view token);

// Rejects `$expand` values other than `stats` (the only expansion Azure offers).
Status check_expand(const RequestContext& ctx);

}  // namespace openbatch::api
