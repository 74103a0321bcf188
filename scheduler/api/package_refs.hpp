// Checks applicationPackageReferences against the applications the account holds: each must
// name an existing application and an active version (or the application's default version
// when none is given). A failure is 409 InvalidApplicationPackageReferences, as in Azure.
#pragma once

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "scheduler/store/store.hpp"

namespace openbatch::api {

Status check_package_refs(store::Reader& reader, const nlohmann::json& refs);

}  // namespace openbatch::api
