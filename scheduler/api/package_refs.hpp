// applicationPackageReferences against the applications the account holds. Each reference
// must name an existing application and one of its *active* versions (or, without a version,
// the application's default version, which must be active). A failure is 409
// InvalidApplicationPackageReferences, as in Azure, with one {applicationId: version} detail
// per offending reference.
//
// resolve_package_refs is what the dispatcher sends to agents: pure over the store (no
// scheduler/nodes dependency), usable from any thread with its own Reader.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace openbatch::api {

struct ResolvedPackage {
  std::string application_id;  // as stored (the reference may spell it in another case)
  std::string version;         // as stored; the default version when the reference had none
  std::string sha256;          // the blob: GET /agent/v1/packages/<sha256>
  std::uint64_t size = 0;
  bool default_version = false;  // the reference named no version
  bool operator==(const ResolvedPackage&) const = default;
};

// One ResolvedPackage per reference, in order. `refs` that is not an array resolves to none.
Result<std::vector<ResolvedPackage>> resolve_package_refs(store::Reader& reader,
                                                          const nlohmann::json& refs);

// resolve_package_refs, keeping only the verdict.
Status check_package_refs(store::Reader& reader, const nlohmann::json& refs);

}  // namespace openbatch::api
