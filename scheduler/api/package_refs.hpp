// applicationPackageReferences against the applications the account holds. Each reference
// must name an existing application and one of its *active* versions (or, without a version,
// the application's default version, which must be active). A failure is 409
// InvalidApplicationPackageReferences, as in Azure, with one {applicationId: version} detail
// per offending reference.
//
// resolve_package_refs is what the dispatcher sends to agents (nodes::resolve_packages), with the
// unresolved references as the 409; usable from any thread with its own Reader.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace openbatch::api {

// What an agent installs; resolution is nodes::resolve_packages (the dispatcher's too).
using ResolvedPackage = protocol::PackageRef;

// One ResolvedPackage per reference, in order. `refs` that is not an array resolves to none.
Result<std::vector<ResolvedPackage>> resolve_package_refs(store::Reader& reader,
                                                          const nlohmann::json& refs);

// resolve_package_refs, keeping only the verdict.
Status check_package_refs(store::Reader& reader, const nlohmann::json& refs);

}  // namespace openbatch::api
