#include "scheduler/api/application_admin.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/api/body_source.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/packages/admin.hpp"
#include "scheduler/packages/applications.hpp"
#include "scheduler/packages/blob_store.hpp"
#include "scheduler/store/async_write.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

using nlohmann::json;

HttpResponse package_response(const RequestContext& ctx, http::status status, const json& app,
                              const std::string& version) {
  return json_response(ctx, status, dump_json(packages::package_wire(app, version)));
}

// ---- the application ----

RouteResult put_application(const RequestContext& ctx, Services& s, const std::string& id) {
  if (!packages::valid_package_name(id)) {
    co_return error_response(
        ctx, errors::invalid_property("applicationId", id,
                                      "Ids use [A-Za-z0-9_-.], at most 64 characters."));
  }
  auto body = parse_optional_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  for (const char* field : {"displayName", "defaultVersion"}) {
    if (body->contains(field) && !(*body)[field].is_string()) {
      co_return error_response(ctx, errors::invalid_property(field, "", "must be a string"));
    }
  }
  if (body->contains("allowUpdates") && !(*body)["allowUpdates"].is_boolean()) {
    co_return error_response(ctx,
                             errors::invalid_property("allowUpdates", "", "must be a boolean"));
  }
  bool created = false;
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    return packages::put_application(w, id, *body, created, error);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, created ? http::status::created : http::status::ok);
}

RouteResult delete_application(const RequestContext& ctx, Services& s, const std::string& id) {
  Error error;
  auto status = co_await store::write(
      s.store, [&](store::Writer& w) { return packages::delete_application(w, id, error); });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::no_content);
}

RouteResult list_versions(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto app = packages::load_application(*reader, id);
  if (!app) co_return error_response(ctx, packages::application_not_found());
  json value = json::array();
  for (const auto& v : app->value("versions", json::array())) {
    if (v.is_string()) value.push_back(packages::package_wire(*app, v.get<std::string>()));
  }
  json body = {{"applicationId", app->value("id", id)},
               {"displayName", app->value("displayName", app->value("id", id))},
               {"allowUpdates", packages::allows_updates(*app)},
               {"value", std::move(value)}};
  if (app->contains("defaultVersion")) body["defaultVersion"] = (*app)["defaultVersion"];
  co_return json_response(ctx, http::status::ok, dump_json(body));
}

// ---- one version ----

// The activate=true|false query of an upload (absent: false).
Result<bool> activate_query(const RequestContext& ctx) {
  auto v = ctx.query_param("activate");
  if (!v || text::iequals(*v, "false")) return false;
  if (text::iequals(*v, "true")) return true;
  return errors::invalid_query("activate", *v, "activate must be true or false.");
}

RouteResult upload_version(const RequestContext& ctx, Services& s, const std::string& id,
                           const std::string& version) {
  if (!packages::valid_package_name(version)) {
    co_return error_response(
        ctx, errors::invalid_property("version", version,
                                      "Versions use [A-Za-z0-9_-.], at most 64 characters."));
  }
  auto activate = activate_query(ctx);
  if (!activate) co_return error_response(ctx, activate.error());
  {
    auto reader = s.store.reader();
    if (auto ok = packages::may_upload(packages::load_application(*reader, id), version); !ok) {
      co_return error_response(ctx, ok.error());
    }
  }
  StringBodySource whole(ctx.http.body());
  BodySource& body = ctx.body_stream ? *ctx.body_stream : whole;
  co_await body.accept();
  auto staged = co_await packages::receive_package(body, s.data_dir, s.max_package_bytes);
  if (!staged) co_return error_response(ctx, staged.error());

  Error error;
  packages::CommittedUpload upload;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    return packages::commit_upload(w, s.data_dir, id, version, *staged, *activate, ctx.now, upload,
                                   error);
  });
  packages::discard_staged(*staged);  // still there only when it was not published
  packages::settle_retired(s.data_dir, upload.old_digest, upload.retired, status && upload.applied);
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return package_response(ctx, upload.created ? http::status::created : http::status::ok,
                             upload.saved, upload.stored);
}

RouteResult get_version(const RequestContext& ctx, Services& s, const std::string& id,
                        const std::string& version) {
  auto reader = s.store.reader();
  auto app = packages::load_application(*reader, id);
  if (!app) co_return error_response(ctx, packages::application_not_found());
  auto stored = packages::find_version(*app, version);
  if (!stored) co_return error_response(ctx, packages::package_not_found());
  co_return package_response(ctx, http::status::ok, *app, *stored);
}

RouteResult activate_version(const RequestContext& ctx, Services& s, const std::string& id,
                             const std::string& version) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto format = body->find("format");
  if (format == body->end()) co_return error_response(ctx, errors::missing_property("format"));
  if (!format->is_string() || !text::iequals(format->get<std::string>(), "zip")) {
    co_return error_response(
        ctx,
        errors::invalid_property("format", format->is_string() ? format->get<std::string>() : "",
                                 "The only package format is zip."));
  }
  Error error;
  json saved;
  std::string stored;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    return packages::activate_version(w, id, version, ctx.now, saved, stored, error);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return package_response(ctx, http::status::ok, saved, stored);
}

RouteResult delete_version(const RequestContext& ctx, Services& s, const std::string& id,
                           const std::string& version) {
  Error error;
  packages::RemovedVersion removed;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    return packages::delete_version(w, s.data_dir, id, version, removed, error);
  });
  packages::settle_retired(s.data_dir, removed.digest, removed.retired, status && removed.applied);
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::no_content);
}

}  // namespace

RouteResult application_admin_route(const RequestContext& ctx, Services& s) {
  const auto& seg = ctx.segments;
  const std::string& m = ctx.method;
  if (seg.size() == 2) {
    if (m == "PUT") co_return co_await put_application(ctx, s, seg[1]);
    if (m == "DELETE") co_return co_await delete_application(ctx, s, seg[1]);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() < 3 || text::to_lower(seg[2]) != "versions") co_return invalid_uri(ctx);
  if (seg.size() == 3) {
    if (m == "GET") co_return co_await list_versions(ctx, s, seg[1]);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() == 4) {
    if (m == "PUT") co_return co_await upload_version(ctx, s, seg[1], seg[3]);
    if (m == "GET") co_return co_await get_version(ctx, s, seg[1], seg[3]);
    if (m == "DELETE") co_return co_await delete_version(ctx, s, seg[1], seg[3]);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() == 5 && text::to_lower(seg[4]) == "activate") {
    if (m == "POST") co_return co_await activate_version(ctx, s, seg[1], seg[3]);
    co_return unsupported_verb(ctx);
  }
  co_return invalid_uri(ctx);
}

}  // namespace openbatch::api
