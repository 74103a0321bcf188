#include "scheduler/api/application_admin.hpp"

#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/api/body_source.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/packages/applications.hpp"
#include "scheduler/packages/blob_store.hpp"
#include "scheduler/store/async_write.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace openbatch::api {
namespace {

using nlohmann::json;

Error application_not_found() {
  return errors::not_found("ApplicationNotFound", "The specified application does not exist.");
}

Error package_not_found() {
  return errors::not_found("ApplicationPackageNotFound",
                           "The specified application package does not exist.");
}

Error updates_not_allowed() {
  return errors::conflict("ApplicationPackageExists",
                          "The version exists and the application does not allow updates.");
}

bool allows_updates(const json& app) {
  auto it = app.find("allowUpdates");
  return it == app.end() || !it->is_boolean() || it->get<bool>();  // Azure's default: true
}

store::Record application_record(const json& app) {
  auto record = make_record(app, "");
  record.state = "active";
  return record;
}

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
    auto app = load_entity(w, store::Table::Applications, "", id);
    created = !app;
    json value = app ? *app : json{{"id", id}, {"versions", json::array()}};
    if (body->contains("displayName")) value["displayName"] = (*body)["displayName"];
    if (body->contains("allowUpdates")) value["allowUpdates"] = (*body)["allowUpdates"];
    if (body->contains("defaultVersion")) {
      const std::string v = (*body)["defaultVersion"];
      auto stored = packages::find_version(value, v);
      if (!stored || !packages::is_active(value, *stored)) {
        error = errors::invalid_property("defaultVersion", v,
                                         "The default version must be an existing active version.");
        return false;
      }
      value["defaultVersion"] = *stored;
    }
    auto record = application_record(value);
    return created ? w.insert(store::Table::Applications, record)
                   : w.update(store::Table::Applications, record);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, created ? http::status::created : http::status::ok);
}

RouteResult delete_application(const RequestContext& ctx, Services& s, const std::string& id) {
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto app = load_entity(w, store::Table::Applications, "", id);
    if (!app) {
      error = application_not_found();
      return false;
    }
    if (auto v = app->find("versions"); v != app->end() && v->is_array() && !v->empty()) {
      error = errors::conflict("ApplicationPackagesExist",
                               "The application has versions: delete them first.");
      return false;
    }
    return w.erase(store::Table::Applications, "", app->value("id", id));
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::no_content);
}

RouteResult list_versions(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto app = load_entity(*reader, store::Table::Applications, "", id);
  if (!app) co_return error_response(ctx, application_not_found());
  json value = json::array();
  for (const auto& v : app->value("versions", json::array())) {
    if (v.is_string()) value.push_back(packages::package_wire(*app, v.get<std::string>()));
  }
  json body = {{"applicationId", app->value("id", id)},
               {"displayName", app->value("displayName", app->value("id", id))},
               {"allowUpdates", allows_updates(*app)},
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

// Checked before the body is read (a doomed upload is not received) and again under the write.
Status may_upload(const std::optional<json>& app, const std::string& version) {
  if (!app) return application_not_found();
  if (packages::find_version(*app, version) && !allows_updates(*app)) return updates_not_allowed();
  return {};
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
    if (auto ok = may_upload(load_entity(*reader, store::Table::Applications, "", id), version);
        !ok) {
      co_return error_response(ctx, ok.error());
    }
  }
  StringBodySource whole(ctx.http.body());
  BodySource& body = ctx.body_stream ? *ctx.body_stream : whole;
  co_await body.accept();
  auto staged = co_await packages::receive_package(body, s.data_dir, s.max_package_bytes);
  if (!staged) co_return error_response(ctx, staged.error());

  Error error;
  json saved;
  std::string stored;
  bool created = false;
  std::string old_digest;
  std::optional<std::filesystem::path> retired;
  bool applied = false;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto app = load_entity(w, store::Table::Applications, "", id);
    if (auto ok = may_upload(app, version); !ok) {
      error = ok.error();
      return false;
    }
    auto existing = packages::find_version(*app, version);
    created = !existing;
    stored = existing.value_or(version);
    if (const json* old = packages::package_of(*app, stored)) old_digest = old->value("sha256", "");
    if (auto published = packages::publish_blob(s.data_dir, *staged); !published) {
      error = published.error();
      return false;
    }
    // Replaced content whose blob nothing else shares goes once this commits.
    if (!old_digest.empty() && old_digest != staged->sha256 &&
        !packages::digest_referenced(w, old_digest, id, stored)) {
      retired = packages::retire_blob(s.data_dir, old_digest);
    }
    if (created) (*app)["versions"].push_back(stored);
    json package = {{"sha256", staged->sha256},
                    {"size", staged->size},
                    {"format", "zip"},
                    {"state", *activate ? packages::kPackageActive : packages::kPackagePending}};
    if (*activate) package["lastActivationTime"] = format_iso8601(ctx.now);
    (*app)["openbatch"]["packages"][stored] = std::move(package);
    saved = *app;
    applied = w.update(store::Table::Applications, application_record(*app));
    return applied;
  });
  packages::discard_staged(*staged);  // still there only when it was not published
  packages::settle_retired(s.data_dir, old_digest, retired, status && applied);
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return package_response(ctx, created ? http::status::created : http::status::ok, saved,
                             stored);
}

RouteResult get_version(const RequestContext& ctx, Services& s, const std::string& id,
                        const std::string& version) {
  auto reader = s.store.reader();
  auto app = load_entity(*reader, store::Table::Applications, "", id);
  if (!app) co_return error_response(ctx, application_not_found());
  auto stored = packages::find_version(*app, version);
  if (!stored) co_return error_response(ctx, package_not_found());
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
    auto app = load_entity(w, store::Table::Applications, "", id);
    if (!app) {
      error = application_not_found();
      return false;
    }
    auto found = packages::find_version(*app, version);
    if (!found || !packages::package_of(*app, *found)) {
      error = package_not_found();
      return false;
    }
    stored = *found;
    json& package = (*app)["openbatch"]["packages"][stored];
    package["state"] = packages::kPackageActive;
    package["format"] = "zip";
    package["lastActivationTime"] = format_iso8601(ctx.now);
    saved = *app;
    return w.update(store::Table::Applications, application_record(*app));
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return package_response(ctx, http::status::ok, saved, stored);
}

RouteResult delete_version(const RequestContext& ctx, Services& s, const std::string& id,
                           const std::string& version) {
  Error error;
  std::string digest;
  std::optional<std::filesystem::path> retired;
  bool applied = false;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto app = load_entity(w, store::Table::Applications, "", id);
    if (!app) {
      error = application_not_found();
      return false;
    }
    auto stored = packages::find_version(*app, version);
    if (!stored) {
      error = package_not_found();
      return false;
    }
    if (auto pools = packages::pools_using(w, *app, *stored); !pools.empty()) {
      std::vector<ErrorDetail> details;
      for (auto& p : pools) details.push_back({"PoolId", std::move(p)});
      error =
          Error(409, "ApplicationPackageInUse",
                "The application package is referenced by one or more pools.", std::move(details));
      return false;
    }
    if (const json* p = packages::package_of(*app, *stored)) digest = p->value("sha256", "");
    json versions = json::array();
    for (const auto& v : (*app)["versions"]) {
      if (!(v.is_string() && v.get<std::string>() == *stored)) versions.push_back(v);
    }
    (*app)["versions"] = std::move(versions);
    if (auto ob = app->find("openbatch"); ob != app->end() && ob->contains("packages")) {
      (*ob)["packages"].erase(*stored);
    }
    if (text::iequals(app->value("defaultVersion", ""), *stored)) app->erase("defaultVersion");
    if (!digest.empty() && !packages::digest_referenced(w, digest, id, *stored)) {
      retired = packages::retire_blob(s.data_dir, digest);
    }
    applied = w.update(store::Table::Applications, application_record(*app));
    return applied;
  });
  packages::settle_retired(s.data_dir, digest, retired, status && applied);
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
