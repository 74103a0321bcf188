// What the CLI shows of each entity: the columns of `list` tables and the labelled fields of
// `show`, as functions of the entity's wire JSON. Pure; thread-safe.
#pragma once

#include "cli/table.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::cli {

struct Column {
  std::string header;  // table header ("VM SIZE") or show label ("VM size")
  std::function<std::string(const nlohmann::json&)> cell;
};

struct EntityView {
  std::vector<Column> columns;  // list tables
  std::vector<Column> fields;   // show; empty values are left out
};

const EntityView& pool_view();
const EntityView& job_view();
const EntityView& task_view();
// A multi-instance task's subtasks (GET .../subtasksinfo): instances 1..N-1.
const EntityView& subtask_view();
const EntityView& node_view();
const EntityView& file_view();
const EntityView& application_view();
// The management view of an application (GET /applications/{app}/versions): its fields, and
// the columns of its versions (pending ones included).
const EntityView& application_versions_view();

// The table of `entities` (a JSON array; non-objects are skipped) with `view`'s columns.
Table list_table(const EntityView& view, const nlohmann::json& entities);

// The `show` fields of one entity that have a value, as label/value pairs.
std::vector<std::pair<std::string, std::string>> entity_fields(const EntityView& view,
                                                               const nlohmann::json& entity);

}  // namespace openbatch::cli
