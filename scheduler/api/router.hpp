// Router: turns an HttpRequest into a RequestContext (decoded path segments, case-insensitive
// query, request id, base URL), authenticates it (SharedKey), checks api-version, and hands it
// to the route group that owns its first path segment. Thread-safe: no per-request state kept.
#pragma once

#include "scheduler/api/body_source.hpp"
#include "scheduler/api/http_types.hpp"
#include "scheduler/api/request_context.hpp"
#include "scheduler/api/services.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace openbatch::store {
class DiskGuard;
}

namespace openbatch::api {

class Router {
 public:
  // `disk_guard` (may be null: never refuse for disk space) tells when space is low.
  explicit Router(Services& services, const store::DiskGuard* disk_guard = nullptr)
      : services_(services), disk_guard_(disk_guard) {}
  boost::asio::awaitable<HttpResponse> handle(HttpRequest request);

  // Requests whose body the route reads itself, piece by piece: package uploads
  // (PUT /applications/{app}/versions/{version}). The server must not read their body.
  static bool streams_body(http::verb method, std::string_view target);
  // Such a request: `head` has the header only. Authentication and the api-version check
  // happen before any byte of `body` is read; a refusal leaves the body unread.
  boost::asio::awaitable<HttpResponse> handle_streamed(HttpRequest head, BodySource& body);

 private:
  boost::asio::awaitable<HttpResponse> run(RequestContext& ctx);

  Services& services_;
  const store::DiskGuard* disk_guard_;
};

// api-version values accepted: YYYY-MM-DD.major.minor from 2020-09-01.12.0 on.
bool supported_api_version(std::string_view version);

}  // namespace openbatch::api
