// From a pool's or task's applicationPackageReferences to the packages an agent installs:
// each reference's application record (store::Table::Applications) gives the version (its
// defaultVersion when the reference names none) and that version's stored blob (sha256,
// size). Only active versions resolve; the API refused anything else when the reference was
// made, so a reference that no longer resolves (a race with a delete) is reported, not sent.
//
// The API checks references with the same resolution (resolve_package_refs): each must name
// an existing application and one of its *active* versions (or, without a version, the
// application's default version, which must be active). A failure is 409
// InvalidApplicationPackageReferences, as in Azure, with one {applicationId: version} detail
// per offending reference. Usable from any thread with its own Reader.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace openbatch::packages {

struct ResolvedPackages {
  std::vector<protocol::PackageRef> packages;
  // Each reference that failed: (applicationId as given, version or "(default version)").
  std::vector<std::pair<std::string, std::string>> unresolved;
};

// One application record (its stored JSON) and one reference -> the package, or nullopt.
std::optional<protocol::PackageRef> resolve_package(const nlohmann::json& application,
                                                    const nlohmann::json& reference);

ResolvedPackages resolve_packages(store::Reader& reader, const nlohmann::json& references);

// resolve_packages with the unresolved references as the 409: one package per reference, in
// order. `refs` that is not an array resolves to none.
Result<std::vector<protocol::PackageRef>> resolve_package_refs(store::Reader& reader,
                                                               const nlohmann::json& refs);

// resolve_package_refs, keeping only the verdict.
Status check_package_refs(store::Reader& reader, const nlohmann::json& refs);

}  // namespace openbatch::packages
