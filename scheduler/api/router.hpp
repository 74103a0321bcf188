// Router: turns an HttpRequest into a RequestContext (decoded path segments, case-insensitive
// query, request id, base URL), authenticates it (SharedKey), checks api-version, and hands it
// to the route group that owns its first path segment. Thread-safe: no per-request state kept.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "scheduler/api/http_types.hpp"
#include "scheduler/api/services.hpp"

namespace openbatch::api {

class Router {
 public:
  explicit Router(Services& services) : services_(services) {}
  boost::asio::awaitable<HttpResponse> handle(HttpRequest request);

 private:
  Services& services_;
};

// api-version values accepted: YYYY-MM-DD.major.minor from 2020-09-01.12.0 on.
bool supported_api_version(std::string_view version);

}  // namespace openbatch::api
