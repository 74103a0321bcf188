// RequestContext: one parsed request -- path segments, case-insensitive query parameters,
// identifiers for the response headers -- built once by the router and handed to a route.
#pragma once

#include "common/clock.hpp"
#include "scheduler/api/http_types.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::api {

class BodySource;

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// Query parameters by name, compared case-insensitively (the TypeSpec-era docs spell
// `timeOut`); values are URL-decoded.
using QueryParams = std::map<std::string, std::string, CaseInsensitiveLess>;

struct RequestContext {
  explicit RequestContext(const HttpRequest& request) : http(request) {}
  const HttpRequest& http;
  std::string method;                 // "GET", "POST", ...
  std::string raw_path;               // as received, still percent-encoded
  std::vector<std::string> segments;  // decoded path segments
  QueryParams query;
  std::string request_id;  // server GUID for the request-id header
  std::string base_url;    // scheme://host[:port] the client used, for odata links
  TimePoint now;
  // Set for requests the server did not read whole (Router::handle_streamed): the route
  // reads the body from here, and `http.body()` is empty.
  BodySource* body_stream = nullptr;

  std::optional<std::string_view> query_param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const;
};

}  // namespace openbatch::api
