// node.json read and write (see node_identity.hpp).
#include "node_agent/state/node_identity.hpp"

#include "node_agent/state/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <system_error>

namespace openbatch::agent::state {
namespace {

Error invalid_identity(const std::filesystem::path& path, std::string_view why) {
  return Error(500, "InvalidNodeIdentity", path.string() + ": " + std::string(why));
}

}  // namespace

Result<std::optional<NodeIdentity>> load_node_identity(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<NodeIdentity>();
  std::ifstream in(path);
  if (!in) return invalid_identity(path, "cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid_identity(path, "is not a JSON object");
  NodeIdentity id;
  auto get = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  id.node_id = get("nodeId");
  id.node_token = get("nodeToken");
  id.pool_id = get("poolId");
  if (id.node_id.empty()) return invalid_identity(path, "has no nodeId");
  if (id.node_token.empty()) return invalid_identity(path, "has no nodeToken");
  return std::optional<NodeIdentity>(std::move(id));
}

Status save_node_identity(const std::filesystem::path& path, const NodeIdentity& identity) {
  nlohmann::json j = {{"nodeId", identity.node_id},
                      {"nodeToken", identity.node_token},
                      {"poolId", identity.pool_id}};
  return write_file_atomically(path, j.dump() + "\n", 0600);
}

}  // namespace openbatch::agent::state
