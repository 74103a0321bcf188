// Validators for the pool-only pieces: userAccounts and mountConfiguration entries (see
// parts.hpp for the calling shape). Internal to scheduler/domain. Pure; thread-safe.
#pragma once

#include "scheduler/domain/fields.hpp"

#include <string_view>

namespace openbatch::domain::detail {

// Names the agent creates as OS accounts: 1..32 characters, [A-Za-z0-9_.-], starting with a
// letter or '_'; "root" and the "_azbatch" prefix (the auto-users) are reserved.
bool is_valid_user_name(std::string_view name);

// The userAccounts list: each entry checked, names unique (case-insensitively).
Status take_user_accounts(Fields& pool);

// One mountConfiguration entry: exactly one of nfsMountConfiguration,
// cifsMountConfiguration, azureBlobFileSystemConfiguration, azureFileShareConfiguration,
// with a relativeMountPath that stays under AZ_BATCH_NODE_MOUNTS_DIR.
Status check_mount_configuration(json& src, json& out, const Path& path);

}  // namespace openbatch::domain::detail
