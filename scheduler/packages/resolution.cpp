#include "scheduler/packages/resolution.hpp"

#include "common/text/ascii.hpp"

namespace openbatch::packages {
using nlohmann::json;

namespace {

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<protocol::PackageRef> resolve_package(const json& application,
                                                    const json& reference) {
  if (!application.is_object() || !reference.is_object()) return std::nullopt;
  std::string wanted = string_at(reference, "version");
  const bool default_version = wanted.empty();
  if (default_version) wanted = string_at(application, "defaultVersion");
  if (wanted.empty()) return std::nullopt;
  auto ext = application.find("openbatch");
  if (ext == application.end() || !ext->is_object()) return std::nullopt;
  auto packages = ext->find("packages");
  if (packages == ext->end() || !packages->is_object()) return std::nullopt;
  // Versions compare case-insensitively, as Azure's do.
  for (const auto& [version, blob] : packages->items()) {
    if (!text::iequals(version, wanted) || !blob.is_object()) continue;
    if (blob.value("state", "active") != "active") return std::nullopt;
    protocol::PackageRef ref;
    ref.application_id = string_at(application, "id");
    ref.version = version;
    ref.sha256 = string_at(blob, "sha256");
    auto size = blob.find("size");
    ref.size = size != blob.end() && size->is_number_integer() && *size >= 0
                   ? size->get<std::uint64_t>()
                   : 0;
    ref.default_version = default_version;
    if (ref.sha256.size() != 64) return std::nullopt;
    return ref;
  }
  return std::nullopt;
}

ResolvedPackages resolve_packages(store::Reader& reader, const json& references) {
  ResolvedPackages out;
  if (!references.is_array()) return out;
  for (const auto& reference : references) {
    const std::string app_id = reference.is_object() ? string_at(reference, "applicationId") : "";
    std::optional<protocol::PackageRef> ref;
    if (auto record = reader.get(store::Table::Applications, "", app_id)) {
      ref = resolve_package(json::parse(record->body, nullptr, false), reference);
    }
    if (ref) {
      out.packages.push_back(std::move(*ref));
    } else {
      const std::string version = reference.is_object() ? string_at(reference, "version") : "";
      out.unresolved.emplace_back(app_id, version.empty() ? "(default version)" : version);
    }
  }
  return out;
}

Result<std::vector<protocol::PackageRef>> resolve_package_refs(store::Reader& reader,
                                                               const nlohmann::json& refs) {
  ResolvedPackages resolved = resolve_packages(reader, refs);
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

}  // namespace openbatch::packages
