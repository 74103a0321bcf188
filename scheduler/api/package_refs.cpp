#include "scheduler/api/package_refs.hpp"

#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/packages.hpp"

namespace openbatch::api {

Result<std::vector<ResolvedPackage>> resolve_package_refs(store::Reader& reader,
                                                          const nlohmann::json& refs) {
  std::vector<ResolvedPackage> out;
  if (!refs.is_array()) return out;
  std::vector<ErrorDetail> bad;
  for (const auto& ref : refs) {
    const std::string app_id = ref.is_object() ? ref.value("applicationId", std::string()) : "";
    const std::string version = ref.is_object() ? ref.value("version", std::string()) : "";
    std::optional<nlohmann::json> app;
    if (!app_id.empty()) app = load_entity(reader, store::Table::Applications, "", app_id);
    std::optional<std::string> stored;
    if (app)
      stored = find_version(*app, version.empty() ? app->value("defaultVersion", "") : version);
    // A pending version is not usable yet: to a client it is as absent as an unknown one.
    if (!stored || !is_active(*app, *stored)) {
      bad.push_back({app_id, version.empty() ? "(default version)" : version});
      continue;
    }
    const nlohmann::json& package = *package_of(*app, *stored);
    out.push_back({app->value("id", app_id), *stored, package.value("sha256", ""),
                   package.value("size", std::uint64_t{0}), version.empty()});
  }
  if (bad.empty()) return out;
  return Error(409, "InvalidApplicationPackageReferences",
               "One or more of the specified application package references are invalid.",
               std::move(bad));
}

Status check_package_refs(store::Reader& reader, const nlohmann::json& refs) {
  auto resolved = resolve_package_refs(reader, refs);
  if (!resolved) return resolved.error();
  return {};
}

}  // namespace openbatch::api
