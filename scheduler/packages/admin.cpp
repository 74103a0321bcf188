#include "scheduler/packages/admin.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/packages/applications.hpp"

#include <utility>
#include <vector>

namespace openbatch::packages {
namespace {

using nlohmann::json;

Error updates_not_allowed() {
  return errors::conflict("ApplicationPackageExists",
                          "The version exists and the application does not allow updates.");
}

// As the API stores every entity: id, no parent, the body dumped with invalid UTF-8 replaced.
store::Record application_record(const json& app) {
  store::Record record;
  record.id = app.value("id", std::string());
  record.state = "active";
  record.body = app.dump(-1, ' ', false, json::error_handler_t::replace);
  return record;
}

}  // namespace

Error application_not_found() {
  return errors::not_found("ApplicationNotFound", "The specified application does not exist.");
}

Error package_not_found() {
  return errors::not_found("ApplicationPackageNotFound",
                           "The specified application package does not exist.");
}

std::optional<json> load_application(store::Reader& reader, std::string_view id) {
  auto record = reader.get(store::Table::Applications, "", id);
  if (!record) return std::nullopt;
  auto value = json::parse(record->body, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

bool allows_updates(const json& app) {
  auto it = app.find("allowUpdates");
  return it == app.end() || !it->is_boolean() || it->get<bool>();  // Azure's default: true
}

bool put_application(store::Writer& w, const std::string& id, const json& body, bool& created,
                     Error& error) {
  auto app = load_application(w, id);
  created = !app;
  json value = app ? *app : json{{"id", id}, {"versions", json::array()}};
  if (body.contains("displayName")) value["displayName"] = body["displayName"];
  if (body.contains("allowUpdates")) value["allowUpdates"] = body["allowUpdates"];
  if (body.contains("defaultVersion")) {
    const std::string v = body["defaultVersion"];
    auto stored = find_version(value, v);
    if (!stored || !is_active(value, *stored)) {
      error = errors::invalid_property("defaultVersion", v,
                                       "The default version must be an existing active version.");
      return false;
    }
    value["defaultVersion"] = *stored;
  }
  auto record = application_record(value);
  return created ? w.insert(store::Table::Applications, record)
                 : w.update(store::Table::Applications, record);
}

bool delete_application(store::Writer& w, const std::string& id, Error& error) {
  auto app = load_application(w, id);
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
}

Status may_upload(const std::optional<json>& app, const std::string& version) {
  if (!app) return application_not_found();
  if (find_version(*app, version) && !allows_updates(*app)) return updates_not_allowed();
  return {};
}

bool commit_upload(store::Writer& w, const std::filesystem::path& data_dir, const std::string& id,
                   const std::string& version, StagedBlob& staged, bool activate, TimePoint now,
                   CommittedUpload& out, Error& error) {
  auto app = load_application(w, id);
  if (auto ok = may_upload(app, version); !ok) {
    error = ok.error();
    return false;
  }
  auto existing = find_version(*app, version);
  out.created = !existing;
  out.stored = existing.value_or(version);
  if (const json* old = package_of(*app, out.stored)) out.old_digest = old->value("sha256", "");
  if (auto published = publish_blob(data_dir, staged); !published) {
    error = published.error();
    return false;
  }
  // Replaced content whose blob nothing else shares goes once this commits.
  if (!out.old_digest.empty() && out.old_digest != staged.sha256 &&
      !digest_referenced(w, out.old_digest, id, out.stored)) {
    out.retired = retire_blob(data_dir, out.old_digest);
  }
  if (out.created) (*app)["versions"].push_back(out.stored);
  json package = {{"sha256", staged.sha256},
                  {"size", staged.size},
                  {"format", "zip"},
                  {"state", activate ? kPackageActive : kPackagePending}};
  if (activate) package["lastActivationTime"] = format_iso8601(now);
  (*app)["openbatch"]["packages"][out.stored] = std::move(package);
  out.saved = *app;
  out.applied = w.update(store::Table::Applications, application_record(*app));
  return out.applied;
}

bool activate_version(store::Writer& w, const std::string& id, const std::string& version,
                      TimePoint now, json& saved, std::string& stored, Error& error) {
  auto app = load_application(w, id);
  if (!app) {
    error = application_not_found();
    return false;
  }
  auto found = find_version(*app, version);
  if (!found || !package_of(*app, *found)) {
    error = package_not_found();
    return false;
  }
  stored = *found;
  json& package = (*app)["openbatch"]["packages"][stored];
  package["state"] = kPackageActive;
  package["format"] = "zip";
  package["lastActivationTime"] = format_iso8601(now);
  saved = *app;
  return w.update(store::Table::Applications, application_record(*app));
}

bool delete_version(store::Writer& w, const std::filesystem::path& data_dir, const std::string& id,
                    const std::string& version, RemovedVersion& out, Error& error) {
  auto app = load_application(w, id);
  if (!app) {
    error = application_not_found();
    return false;
  }
  auto stored = find_version(*app, version);
  if (!stored) {
    error = package_not_found();
    return false;
  }
  if (auto pools = pools_using(w, *app, *stored); !pools.empty()) {
    std::vector<ErrorDetail> details;
    for (auto& p : pools) details.push_back({"PoolId", std::move(p)});
    error =
        Error(409, "ApplicationPackageInUse",
              "The application package is referenced by one or more pools.", std::move(details));
    return false;
  }
  if (const json* p = package_of(*app, *stored)) out.digest = p->value("sha256", "");
  json versions = json::array();
  for (const auto& v : (*app)["versions"]) {
    if (!(v.is_string() && v.get<std::string>() == *stored)) versions.push_back(v);
  }
  (*app)["versions"] = std::move(versions);
  if (auto ob = app->find("openbatch"); ob != app->end() && ob->contains("packages")) {
    (*ob)["packages"].erase(*stored);
  }
  if (text::iequals(app->value("defaultVersion", ""), *stored)) app->erase("defaultVersion");
  if (!out.digest.empty() && !digest_referenced(w, out.digest, id, *stored)) {
    out.retired = retire_blob(data_dir, out.digest);
  }
  out.applied = w.update(store::Table::Applications, application_record(*app));
  return out.applied;
}

}  // namespace openbatch::packages
