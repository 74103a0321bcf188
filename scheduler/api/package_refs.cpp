#include "scheduler/api/package_refs.hpp"

#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"

namespace openbatch::api {

Status check_package_refs(store::Reader& reader, const nlohmann::json& refs) {
  if (!refs.is_array()) return {};
  std::vector<ErrorDetail> bad;
  for (const auto& ref : refs) {
    const std::string app_id = ref.value("applicationId", std::string());
    const std::string version = ref.value("version", std::string());
    auto app = load_entity(reader, store::Table::Applications, "", app_id);
    bool ok = false;
    if (app) {
      if (version.empty()) {
        ok = !app->value("defaultVersion", std::string()).empty();
      } else if (auto it = app->find("versions"); it != app->end() && it->is_array()) {
        for (const auto& v : *it) ok = ok || (v.is_string() && iequals(v.get<std::string>(), version));
      }
    }
    if (!ok) bad.push_back({app_id, version.empty() ? "(default version)" : version});
  }
  if (bad.empty()) return {};
  return Error(409, "InvalidApplicationPackageReferences",
               "One or more of the specified application package references are invalid.",
               std::move(bad));
}

}  // namespace openbatch::api
