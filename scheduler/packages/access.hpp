// Which application packages a node may download (GET /agent/v1/packages/<sha256>): the ones
// its own pool's applicationPackageReferences resolve to (its setup installs them) and the
// ones named by the tasks dispatched to it now (their assignments install them). A node token
// reads nothing else: not another pool's packages, not the packages of tasks running on other
// nodes. The endpoint answers a refused digest exactly as an unknown one, so a node cannot
// learn which packages exist elsewhere.
//
// References resolve as for the node's setup and assignments (resolution.hpp): an
// explicit version, or the application's default version at the time of the download.
#pragma once

#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::packages {

// An application's stored JSON by its id; nullopt when there is no such application.
using ApplicationLookup =
    std::function<std::optional<nlohmann::json>(const std::string& application_id)>;

// The pure decision: true when one of `pool`'s applicationPackageReferences or one of
// `tasks`' (the stored task JSON of the attempts listed on the node) resolves to `digest`.
bool node_may_download(const nlohmann::json& pool, const std::vector<nlohmann::json>& tasks,
                       std::string_view digest, const ApplicationLookup& applications);

// The same decision over the store for the node `node_id` (already authenticated by its
// token): its pool, the tasks of its listed attempts, the applications they reference.
// False when the node or its pool is gone.
bool node_may_download(store::Reader& reader, const std::string& node_id, std::string_view digest);

}  // namespace openbatch::packages
