// Loading and saving wire entities through the store: JSON (de)serialisation of Records and
// the not-found errors each entity kind answers with.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace openbatch::api {

// Reads and parses one entity; nullopt when absent.
std::optional<nlohmann::json> load_entity(store::Reader& reader, store::Table table,
                                          std::string_view parent, std::string_view id);
// Builds the Record for `entity` (its id, state) under `parent`.
store::Record make_record(const nlohmann::json& entity, std::string_view parent);

Error pool_not_found();
Error job_not_found();
Error task_not_found();
Error node_not_found();

}  // namespace openbatch::api
