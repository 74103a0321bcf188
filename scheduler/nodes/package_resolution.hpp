// From a pool's or task's applicationPackageReferences to the packages an agent installs:
// each reference's application record (store::Table::Applications) gives the version (its
// defaultVersion when the reference names none) and that version's stored blob (sha256,
// size). Only active versions resolve; the API refused anything else when the reference was
// made, so a reference that no longer resolves (a race with a delete) is reported, not sent.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace openbatch::nodes {

struct ResolvedPackages {
  std::vector<protocol::PackageRef> packages;
  // Each reference that failed: (applicationId as given, version or "(default version)").
  std::vector<std::pair<std::string, std::string>> unresolved;
};

// One application record (its stored JSON) and one reference -> the package, or nullopt.
std::optional<protocol::PackageRef> resolve_package(const nlohmann::json& application,
                                                    const nlohmann::json& reference);

ResolvedPackages resolve_packages(store::Reader& reader, const nlohmann::json& references);

}  // namespace openbatch::nodes
