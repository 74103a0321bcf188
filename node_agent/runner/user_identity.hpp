// parse_user_identity: an assignment's userIdentity (Azure UserIdentity JSON) as the
// environment builder's UserIdentity. {} is the pool's default non-admin auto-user;
// {"username": "u"} a named user; {"autoUser": {"scope": "pool"|"task", "elevationLevel":
// "admin"|"nonadmin"}}. Azure's key is lowercase "username"; "userName" is accepted too.
// Pure.
#pragma once

#include "common/error.hpp"
#include "node_agent/tasks/environment.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::agent::runner {

// An Error (400 InvalidUserIdentity) for a malformed identity or one naming both.
[[nodiscard]] Result<tasks::UserIdentity> parse_user_identity(const nlohmann::json& identity);

}  // namespace openbatch::agent::runner
