#include "scheduler/api/application_admin.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/time.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/store/async_write.hpp"

namespace openbatch::api {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Application ids and versions on Linux: [A-Za-z0-9_-.], at most 64 characters.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return s != "." && s != "..";
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

// Stores `data` at <data>/packages/<sha256> (write to a temp file, fsync, rename) so that the
// metadata committed afterwards never points at a partial blob.
Result<std::string> store_blob(const fs::path& data_dir, std::string_view data) {
  const std::string digest = sha256_hex(data);
  const fs::path dir = data_dir / "packages";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path final_path = dir / digest;
  if (fs::exists(final_path, ec)) return digest;
  const fs::path tmp = dir / (digest + ".tmp");
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return errors::internal("cannot write the package blob");
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() && std::fflush(f) == 0 &&
                  ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok) return errors::internal("cannot write the package blob");
  fs::rename(tmp, final_path, ec);
  if (ec) return errors::internal("cannot store the package blob: " + ec.message());
  return digest;
}

bool looks_like_zip(std::string_view data) {
  return data.size() >= 4 && data[0] == 'P' && data[1] == 'K' &&
         ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

}  // namespace

RouteResult put_application(const RequestContext& ctx, Services& s) {
  const std::string& id = ctx.segments[1];
  if (!valid_name(id)) co_return error_response(ctx, errors::invalid_property("applicationId", id, "Ids use [A-Za-z0-9_-.], at most 64 characters."));
  auto body = parse_optional_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  for (const char* field : {"displayName", "defaultVersion"}) {
    if (body->contains(field) && !(*body)[field].is_string()) {
      co_return error_response(ctx, errors::invalid_property(field, "", "must be a string"));
    }
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
      bool known = false;
      for (const auto& existing : value["versions"]) known = known || iequals(existing.get<std::string>(), v);
      if (!known) {
        error = errors::invalid_property("defaultVersion", v, "The default version must be an existing active version.");
        return false;
      }
      value["defaultVersion"] = v;
    }
    auto record = make_record(value, "");
    record.state = "active";
    return created ? w.insert(store::Table::Applications, record) : w.update(store::Table::Applications, record);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, created ? http::status::created : http::status::ok);
}

RouteResult put_application_version(const RequestContext& ctx, Services& s) {
  const std::string& id = ctx.segments[1];
  const std::string& version = ctx.segments[3];
  if (!valid_name(version)) co_return error_response(ctx, errors::invalid_property("version", version, "Versions use [A-Za-z0-9_-.], at most 64 characters."));
  const std::string& data = ctx.http.body();
  if (!looks_like_zip(data)) co_return error_response(ctx, errors::invalid_body("The package must be a .zip archive."));
  auto digest = store_blob(s.data_dir, data);
  if (!digest) co_return error_response(ctx, digest.error());
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto app = load_entity(w, store::Table::Applications, "", id);
    if (!app) {
      error = errors::not_found("ApplicationNotFound", "The specified application does not exist.");
      return false;
    }
    json& packages = (*app)["openbatch"]["packages"];
    bool exists = false;
    for (const auto& v : (*app)["versions"]) exists = exists || iequals(v.get<std::string>(), version);
    if (exists && !app->value("allowUpdates", true)) {
      error = errors::conflict("ApplicationPackageExists", "The version exists and the application does not allow updates.");
      return false;
    }
    if (!exists) (*app)["versions"].push_back(version);
    packages[version] = {{"sha256", *digest}, {"size", data.size()}, {"format", "zip"},
                         {"state", "active"}, {"lastActivationTime", format_iso8601(ctx.now)}};
    auto record = make_record(*app, "");
    record.state = "active";
    return w.update(store::Table::Applications, record);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::created);
}

}  // namespace openbatch::api
