#include "scheduler/api/response.hpp"

#include "common/http_date.hpp"
#include "common/time.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

void set_common_headers(const RequestContext& ctx, HttpResponse& res) {
  res.set("request-id", ctx.request_id);
  res.set(http::field::server, "OpenBatch");
  auto rcri = ctx.header("return-client-request-id");
  if (rcri && (*rcri == "true" || *rcri == "True" || *rcri == "TRUE")) {
    if (auto id = ctx.header("client-request-id")) res.set("client-request-id", *id);
  }
}

}  // namespace

HttpResponse empty_response(const RequestContext& ctx, http::status status) {
  HttpResponse res{status, ctx.http.version()};
  set_common_headers(ctx, res);
  return res;
}

HttpResponse json_response(const RequestContext& ctx, http::status status, std::string body) {
  HttpResponse res = empty_response(ctx, status);
  res.set(http::field::content_type, kJsonContentType);
  res.body() = std::move(body);
  return res;
}

HttpResponse error_response(const RequestContext& ctx, const Error& error) {
  nlohmann::json body;
  body["odata.metadata"] =
      ctx.base_url + "/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element";
  body["code"] = error.code;
  body["message"] = {{"lang", "en-US"},
                     {"value", error.message + "\nRequestId:" + ctx.request_id +
                                   "\nTime:" + format_iso8601(ctx.now)}};
  if (!error.values.empty()) {
    auto values = nlohmann::json::array();
    for (const auto& v : error.values) values.push_back({{"key", v.key}, {"value", v.value}});
    body["values"] = std::move(values);
  }
  auto status = static_cast<http::status>(error.status);
  if (ctx.method == "HEAD" || error.status == 304) {
    return empty_response(ctx, status);  // no body on HEAD or 304
  }
  return json_response(ctx, status,
                       body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void set_entity_headers(HttpResponse& res, std::string_view etag, std::string_view last_modified) {
  if (!etag.empty()) res.set(http::field::etag, etag);
  if (!last_modified.empty()) {
    if (auto t = parse_iso8601(last_modified))
      res.set(http::field::last_modified, format_http_date(*t));
  }
}

void set_data_service_id(HttpResponse& res, std::string_view url) { res.set("DataServiceId", url); }

}  // namespace openbatch::api
