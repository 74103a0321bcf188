#include "scheduler/packages/applications.hpp"

#include "common/text/ascii.hpp"

#include <cctype>

namespace openbatch::packages {

using nlohmann::json;

bool valid_package_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool valid_digest(std::string_view digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::filesystem::path packages_dir(const std::filesystem::path& data_dir) {
  return data_dir / "packages";
}

std::filesystem::path blob_path(const std::filesystem::path& data_dir, std::string_view digest) {
  return packages_dir(data_dir) / std::string(digest);
}

std::optional<std::string> find_version(const json& app, std::string_view version) {
  auto it = app.find("versions");
  if (it == app.end() || !it->is_array()) return std::nullopt;
  for (const auto& v : *it) {
    if (v.is_string() && text::iequals(v.get_ref<const std::string&>(), version)) {
      return v.get<std::string>();
    }
  }
  return std::nullopt;
}

const json* package_of(const json& app, std::string_view stored_version) {
  auto ob = app.find("openbatch");
  if (ob == app.end() || !ob->is_object()) return nullptr;
  auto packages = ob->find("packages");
  if (packages == ob->end() || !packages->is_object()) return nullptr;
  auto p = packages->find(std::string(stored_version));
  if (p == packages->end() || !p->is_object()) return nullptr;
  return &*p;
}

bool is_active(const json& app, std::string_view stored_version) {
  const json* p = package_of(app, stored_version);
  // Records written before versions had states carry "active" too.
  return p && p->value("state", std::string(kPackageActive)) == kPackageActive;
}

json active_versions(const json& app) {
  json out = json::array();
  auto it = app.find("versions");
  if (it == app.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string() && is_active(app, v.get_ref<const std::string&>())) out.push_back(v);
  }
  return out;
}

json package_wire(const json& app, std::string_view stored_version) {
  json out = {{"applicationId", app.value("id", "")}, {"version", stored_version}};
  const json* p = package_of(app, stored_version);
  if (!p) return out;
  const std::string state = p->value("state", std::string(kPackageActive));
  out["state"] = state;
  out["format"] = p->value("format", "zip");
  out["sha256"] = p->value("sha256", "");
  out["size"] = p->value("size", std::uint64_t{0});
  if (state == kPackageActive && p->contains("lastActivationTime")) {
    out["lastActivationTime"] = (*p)["lastActivationTime"];
  }
  return out;
}

namespace {

// Calls `fn(body)` for every record of `table`, page by page.
template <class Fn>
void for_each_record(store::Reader& reader, store::Table table, Fn&& fn) {
  store::ListQuery q{table, std::string(), std::nullopt, 0, 1000};
  for (;;) {
    auto rows = reader.list(q);
    for (const auto& r : rows) {
      q.after_seq = r.seq;
      auto body = json::parse(r.body, nullptr, false);
      if (body.is_object()) fn(body);
    }
    if (rows.size() < q.limit) break;
  }
}

}  // namespace

bool digest_referenced(store::Reader& reader, std::string_view digest, std::string_view except_app,
                       std::string_view except_version) {
  bool found = false;
  for_each_record(reader, store::Table::Applications, [&](const json& app) {
    if (found) return;
    auto it = app.find("versions");
    if (it == app.end() || !it->is_array()) return;
    const bool same_app = text::iequals(app.value("id", ""), except_app);
    for (const auto& v : *it) {
      if (!v.is_string()) continue;
      if (same_app && text::iequals(v.get_ref<const std::string&>(), except_version)) continue;
      const json* p = package_of(app, v.get_ref<const std::string&>());
      if (p && p->value("sha256", "") == digest) found = true;
    }
  });
  return found;
}

std::vector<std::string> pools_using(store::Reader& reader, const json& app,
                                     std::string_view stored_version) {
  const std::string app_id = app.value("id", "");
  const bool is_default = text::iequals(app.value("defaultVersion", ""), stored_version);
  std::vector<std::string> out;
  for_each_record(reader, store::Table::Pools, [&](const json& pool) {
    auto refs = pool.find("applicationPackageReferences");
    if (refs == pool.end() || !refs->is_array()) return;
    for (const auto& ref : *refs) {
      if (!ref.is_object() || !text::iequals(ref.value("applicationId", ""), app_id)) continue;
      const std::string version = ref.value("version", "");
      if (version.empty() ? is_default : text::iequals(version, stored_version)) {
        out.push_back(pool.value("id", ""));
        break;
      }
    }
  });
  return out;
}

}  // namespace openbatch::packages
