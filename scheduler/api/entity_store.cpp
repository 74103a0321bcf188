#include "scheduler/api/entity_store.hpp"

#include "scheduler/api/entity.hpp"

namespace openbatch::api {

std::optional<nlohmann::json> load_entity(store::Reader& reader, store::Table table,
                                          std::string_view parent, std::string_view id) {
  auto record = reader.get(table, parent, id);
  if (!record) return std::nullopt;
  auto value = nlohmann::json::parse(record->body, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

store::Record make_record(const nlohmann::json& entity, std::string_view parent) {
  store::Record r;
  r.id = entity.value("id", std::string());
  r.parent = std::string(parent);
  r.state = entity.value("state", std::string());
  r.body = dump_json(entity);
  return r;
}

Error pool_not_found() {
  return errors::not_found("PoolNotFound", "The specified pool does not exist.");
}
Error job_not_found() {
  return errors::not_found("JobNotFound", "The specified job does not exist.");
}
Error task_not_found() {
  return errors::not_found("TaskNotFound", "The specified task does not exist.");
}
Error node_not_found() {
  return errors::not_found("NodeNotFound", "The specified node does not exist.");
}

}  // namespace openbatch::api
