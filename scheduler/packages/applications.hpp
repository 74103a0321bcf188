// Application package records: the pure rules over an application's stored JSON
// ({id, displayName, versions:[...], defaultVersion, allowUpdates,
//   openbatch:{packages:{<version>:{sha256, size, format, state, lastActivationTime}}}})
// and the blob store's file names (<data-dir>/packages/<sha256>). Versions are compared
// case-insensitively, as Azure compares them; the spelling of the first upload is kept.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::packages {

inline constexpr std::string_view kPackagePending = "pending";
inline constexpr std::string_view kPackageActive = "active";

// Application ids and versions: [A-Za-z0-9_-.], 1..64 characters, never "." or "..".
bool valid_package_name(std::string_view s);

// A blob digest as the store names it: exactly 64 lowercase hex characters. Anything else
// must never reach a filesystem path.
bool valid_digest(std::string_view digest);

std::filesystem::path packages_dir(const std::filesystem::path& data_dir);
// The blob of `digest`; valid_digest(digest) must hold.
std::filesystem::path blob_path(const std::filesystem::path& data_dir, std::string_view digest);

// The version as stored (its first spelling), or nullopt when the application has none such.
std::optional<std::string> find_version(const nlohmann::json& app, std::string_view version);
// The package record of a stored version (nullptr when absent or malformed).
const nlohmann::json* package_of(const nlohmann::json& app, std::string_view stored_version);
bool is_active(const nlohmann::json& app, std::string_view stored_version);
// Active versions in upload order: what the data plane's ApplicationSummary lists.
nlohmann::json active_versions(const nlohmann::json& app);

// The management view of one version: {applicationId, version, state, format, sha256, size,
// lastActivationTime (active only)}.
nlohmann::json package_wire(const nlohmann::json& app, std::string_view stored_version);

// True when some version of some application (other than (`except_app`, `except_version`))
// stores its content under `digest`.
bool digest_referenced(store::Reader& reader, std::string_view digest,
                       std::string_view except_app = {}, std::string_view except_version = {});

// The ids of the pools whose applicationPackageReferences name (`app_id`, `stored_version`):
// explicitly, or through the default version when the reference has none.
std::vector<std::string> pools_using(store::Reader& reader, const nlohmann::json& app,
                                     std::string_view stored_version);

}  // namespace openbatch::packages
