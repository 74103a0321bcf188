#include "scheduler/packages/access.hpp"

#include "scheduler/domain/node_record.hpp"
#include "scheduler/packages/resolution.hpp"
#include "scheduler/store/credentials.hpp"

#include <set>
#include <utility>

namespace openbatch::packages {
using nlohmann::json;

namespace {

bool references_name(const json& object, std::string_view digest,
                     const ApplicationLookup& applications) {
  if (!object.is_object()) return false;
  auto refs = object.find("applicationPackageReferences");
  if (refs == object.end() || !refs->is_array()) return false;
  for (const auto& reference : *refs) {
    if (!reference.is_object()) continue;
    auto id = reference.find("applicationId");
    if (id == reference.end() || !id->is_string()) continue;
    auto application = applications(id->get<std::string>());
    if (!application) continue;
    auto resolved = resolve_package(*application, reference);
    if (resolved && resolved->sha256 == digest) return true;
  }
  return false;
}

std::optional<json> parsed(const std::optional<store::Record>& record) {
  if (!record) return std::nullopt;
  auto body = json::parse(record->body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

}  // namespace

bool node_may_download(const json& pool, const std::vector<json>& tasks, std::string_view digest,
                       const ApplicationLookup& applications) {
  if (digest.empty()) return false;
  if (references_name(pool, digest, applications)) return true;
  for (const auto& task : tasks) {
    if (references_name(task, digest, applications)) return true;
  }
  return false;
}

bool node_may_download(store::Reader& reader, const std::string& node_id, std::string_view digest) {
  // The node token's credential names the node's pool (credentials.hpp).
  auto credential = parsed(reader.get(store::Table::Credentials, store::kNodeCredential, node_id));
  if (!credential) return false;
  const std::string pool_id = credential->value("poolId", "");
  if (pool_id.empty()) return false;
  auto pool = parsed(reader.get(store::Table::Pools, "", pool_id));
  auto node = parsed(reader.get(store::Table::Nodes, pool_id, node_id));
  if (!pool || !node) return false;
  std::vector<json> tasks;
  std::set<std::pair<std::string, std::string>> seen;  // the instances of one task: read once
  for (const auto& attempt : domain::attempts_of(*node)) {
    if (!seen.emplace(attempt.job_id, attempt.task_id).second) continue;
    if (auto task = parsed(reader.get(store::Table::Tasks, attempt.job_id, attempt.task_id))) {
      tasks.push_back(std::move(*task));
    }
  }
  ApplicationLookup applications = [&reader](const std::string& id) -> std::optional<json> {
    return parsed(reader.get(store::Table::Applications, "", id));
  };
  return node_may_download(*pool, tasks, digest, applications);
}

}  // namespace openbatch::packages
