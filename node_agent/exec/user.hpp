// lookup_user: resolves an OS user name to the ids a LaunchSpec needs, with the reentrant
// getpwnam_r and getgrouplist (never getpwnam: the agent is threaded). Thread-safe.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace openbatch::agent::exec {

struct UserIds {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;              // primary group
  std::vector<gid_t> groups;  // every group, the primary included
  std::string home;
};

// An Error (404 UserNotFound) for an unknown user, 500 LaunchFailed when the lookup fails.
[[nodiscard]] Result<UserIds> lookup_user(std::string_view name);

}  // namespace openbatch::agent::exec
