// NodeIdentity: who this node is to the scheduler, kept in <state-dir>/node.json (mode 0600):
//   {"nodeId": "tvmps_...", "nodeToken": "...", "poolId": "pool1"}
// The agent joins a pool only while this file is missing; once written (by the agent after a
// join, or by the scheduler's local provisioner before it starts the agent) every later start
// links with the token and never joins again (agent-protocol.md 2.1). Thread-safe: values and
// free functions.
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace openbatch::agent::state {

inline constexpr const char* kNodeIdentityFile = "node.json";

struct NodeIdentity {
  std::string node_id;     // "nodeId"
  std::string node_token;  // "nodeToken"
  std::string pool_id;     // "poolId"
  bool operator==(const NodeIdentity&) const = default;
};

// nullopt when the file does not exist; an Error (500 "InvalidNodeIdentity") when it exists
// but cannot be read or lacks nodeId/nodeToken.
[[nodiscard]] Result<std::optional<NodeIdentity>> load_node_identity(
    const std::filesystem::path& path);

// Writes the file atomically with mode 0600.
[[nodiscard]] Status save_node_identity(const std::filesystem::path& path,
                                        const NodeIdentity& identity);

}  // namespace openbatch::agent::state
