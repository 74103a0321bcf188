// The scheduler's two directories and their permissions.
//
// The data directory holds the database (openbatch.db, -wal, -shm), package blobs,
// account.key and the local agents' state (node tokens): only the scheduler's user may enter
// it (0700; its files 0600). It is created so, tightened when it is ours and looser, and
// refused when another user owns it. A `mktemp -d` directory is fine as it is.
//
// The nodes directory holds the local agents' node roots (<nodes-dir>/<pool>/<node>, each
// AZ_BATCH_NODE_ROOT_DIR), which nonadmin tasks must reach: it is 0755, beside the data
// directory by default (<data-dir>.nodes), never inside it nor around it, and each directory
// above it must be one that no other user can swap (owned by root or by us, not writable by
// group or others unless sticky like /tmp).
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

namespace openbatch::startup {

inline constexpr mode_t kDataDirMode = 0700;
inline constexpr mode_t kDataFileMode = 0600;
inline constexpr mode_t kNodesDirMode = 0755;

// <data-dir>.nodes, lexically: "./openbatch-data/" -> "./openbatch-data.nodes".
std::filesystem::path default_nodes_dir(const std::filesystem::path& data_dir);

// Why a directory with this owner and mode, above or at the nodes directory, would let
// another user change what lies below it; nullopt when it is safe. `euid`: ours.
std::optional<std::string> unsafe_ancestor(uid_t owner, mode_t mode, uid_t euid);

// Creates the data directory (0700) or checks and tightens an existing one, and makes the
// database, blobs and key files in it 0600.
Status prepare_data_dir(const std::filesystem::path& data_dir);

// Creates the nodes directory (0755) or checks an existing one, and checks the path to it.
// `data_dir` must be neither inside it nor around it.
Status prepare_nodes_dir(const std::filesystem::path& nodes_dir,
                         const std::filesystem::path& data_dir);

}  // namespace openbatch::startup
