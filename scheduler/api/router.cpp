#include "scheduler/api/router.hpp"

#include "common/auth/shared_key.hpp"
#include "common/encoding.hpp"
#include "common/text/ascii.hpp"
#include "scheduler/api/disk_gate.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/request_context.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/store/disk_guard.hpp"

#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <cctype>

namespace openbatch::api {
namespace {

// A Host header is echoed into odata links; accept only what a host[:port] can hold.
bool plausible_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']' || c == '_')) {
      return false;
    }
  }
  return true;
}

Status authenticate(const RequestContext& ctx, const Services& s) {
  if (!s.account.require_auth) return {};
  std::vector<auth::HeaderField> headers;
  headers.reserve(16);
  for (const auto& field : ctx.http) {
    auto name = field.name_string();
    auto value = field.value();
    headers.push_back(
        {std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size())});
  }
  auto target = ctx.http.target();
  auth::RequestView view{ctx.method, std::string_view(target.data(), target.size()), headers};
  const auth::SharedKeyCredential credential{s.account.name, s.account.key};
  return auth::verify(view, std::span<const auth::SharedKeyCredential>(&credential, 1), ctx.now);
}

Status check_api_version(const RequestContext& ctx) {
  auto version = ctx.query_param("api-version");
  if (!version || version->empty()) return errors::missing_query("api-version");
  if (!supported_api_version(*version)) {
    return Error(400, "UnsupportedRequestVersion",
                 "The specified api-version is not supported by this server.",
                 {{"QueryParameterName", "api-version"},
                  {"QueryParameterValue", std::string(*version)},
                  {"Reason", "Supported: YYYY-MM-DD.major.minor from 2020-09-01.12.0 on."}});
  }
  if (auto timeout = ctx.query_param("timeout")) {
    if (timeout->empty() || !std::all_of(timeout->begin(), timeout->end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      return errors::invalid_query("timeout", *timeout,
                                   "timeout must be a whole number of seconds.");
    }
  }
  return {};
}

Result<void> parse_target(RequestContext& ctx) {
  auto url = boost::urls::parse_origin_form(ctx.http.target());
  if (!url)
    return Error(400, "InvalidUri",
                 "The requested URI does not represent any resource on the server.");
  ctx.raw_path = std::string(url->encoded_path());
  for (auto seg : url->segments()) ctx.segments.emplace_back(seg);
  while (!ctx.segments.empty() && ctx.segments.back().empty()) ctx.segments.pop_back();
  // An empty segment inside the path (/pools//p) names no resource.
  for (const auto& segment : ctx.segments) {
    if (segment.empty()) {
      return Error(400, "InvalidUri",
                   "The requested URI does not represent any resource on the server.",
                   {{"RequestUri", std::string(ctx.http.target())}});
    }
  }
  for (auto param : url->params()) {
    // Repeated parameters: the first wins (Azure rejects them; clients never send them).
    ctx.query.emplace(param.key, param.has_value ? param.value : std::string());
  }
  return {};
}

RouteResult dispatch(const RequestContext& ctx, Services& s) {
  if (ctx.segments.empty()) co_return invalid_uri(ctx);
  const std::string top = text::to_lower(ctx.segments[0]);
  if (top == "pools") co_return co_await pools_route(ctx, s);
  if (top == "jobs") co_return co_await jobs_route(ctx, s);
  if (top == "applications") co_return co_await applications_route(ctx, s);
  if (top == "supportedimages" || top == "nodecounts") co_return co_await account_route(ctx, s);
  co_return invalid_uri(ctx);
}

}  // namespace

bool supported_api_version(std::string_view v) {
  // YYYY-MM-DD.major.minor
  if (v.size() < 14 || v[4] != '-' || v[7] != '-' || v[10] != '.') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  auto rest = v.substr(11);
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == rest.size()) return false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (i != dot && !std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
  }
  return v.substr(0, 10) >= "2020-09-01";
}

HttpResponse unsupported_verb(const RequestContext& ctx) {
  return error_response(ctx, Error(405, "UnsupportedHttpVerb",
                                   "The resource doesn't support the specified HTTP verb.",
                                   {{"HttpVerb", ctx.method}}));
}

HttpResponse invalid_uri(const RequestContext& ctx) {
  return error_response(
      ctx,
      Error(400, "InvalidUri", "The requested URI does not represent any resource on the server.",
            {{"RequestUri", std::string(ctx.http.target())}}));
}

boost::asio::awaitable<HttpResponse> Router::handle(HttpRequest request) {
  RequestContext ctx(request);
  co_return co_await run(ctx);
}

bool Router::streams_body(http::verb method, std::string_view target) {
  if (method != http::verb::put) return false;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  std::vector<std::string> segments;
  for (auto seg : url->segments()) segments.emplace_back(seg);
  while (!segments.empty() && segments.back().empty()) segments.pop_back();
  return segments.size() == 4 && text::iequals(segments[0], "applications") &&
         text::iequals(segments[2], "versions");
}

boost::asio::awaitable<HttpResponse> Router::handle_streamed(HttpRequest head, BodySource& body) {
  RequestContext ctx(head);
  ctx.body_stream = &body;
  co_return co_await run(ctx);
}

boost::asio::awaitable<HttpResponse> Router::run(RequestContext& ctx) {
  const HttpRequest& request = ctx.http;
  ctx.method = std::string(request.method_string());
  ctx.request_id = encoding::uuid_v4();
  ctx.now = services_.clock.now();
  auto host = request[http::field::host];
  ctx.base_url = plausible_host(std::string_view(host.data(), host.size()))
                     ? "http://" + std::string(host)
                     : services_.account.public_url;
  if (auto parsed = parse_target(ctx); !parsed) co_return error_response(ctx, parsed.error());
  // SharedKey signs the headers (Content-Length included), never the body: a streamed
  // upload is authenticated here, before its body is read.
  if (auto a = authenticate(ctx, services_); !a) {
    spdlog::info("auth refused {} {}: {}", ctx.method, std::string(request.target()),
                 a.error().code);
    co_return error_response(ctx, a.error());
  }
  if (auto v = check_api_version(ctx); !v) co_return error_response(ctx, v.error());
  // Low on disk: refuse what would add data before SQLite runs out (deletes still work).
  if (disk_guard_ != nullptr && disk_guard_->low() &&
      refused_when_disk_low(ctx.method, ctx.segments)) {
    co_return error_response(ctx, disk_guard_->refusal());
  }
  try {
    co_return co_await dispatch(ctx, services_);
  } catch (const std::exception& e) {
    // A bug, not an expected outcome: answer 500 and keep serving.
    spdlog::error("unhandled error on {} {}: {}", ctx.method, std::string(request.target()),
                  e.what());
    co_return error_response(
        ctx,
        errors::internal("The server encountered an internal error. Please retry the request."));
  }
}

}  // namespace openbatch::api
