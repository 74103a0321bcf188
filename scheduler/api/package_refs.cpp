#include "scheduler/api/package_refs.hpp"

#include "scheduler/nodes/package_resolution.hpp"

namespace openbatch::api {

Result<std::vector<ResolvedPackage>> resolve_package_refs(store::Reader& reader,
                                                          const nlohmann::json& refs) {
  nodes::ResolvedPackages resolved = nodes::resolve_packages(reader, refs);
  if (resolved.unresolved.empty()) return std::move(resolved.packages);
  std::vector<ErrorDetail> bad;
  for (auto& [app, version] : resolved.unresolved)
    bad.push_back({std::move(app), std::move(version)});
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
