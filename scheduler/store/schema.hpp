// Schema: table names, the ordered list of forward migrations, and migrate(), which brings a
// database file up to the newest schema this build knows (PRAGMA user_version).
//
// Threading: migrate() runs on the one connection passed in, before the writer thread starts.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/store.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace openbatch::store {

class Connection;

inline constexpr std::array<Table, 8> kAllTables = {
    Table::Pools,        Table::Jobs,        Table::Tasks,        Table::Nodes,
    Table::Applications, Table::Credentials, Table::TaskFailures, Table::Subtasks};

// The SQL name of `table`: "pools", "jobs", "tasks", "nodes", "applications".
std::string_view table_name(Table table);

// user_version after every migration has run; a file with a larger user_version was written by
// a newer OpenBatch and is refused.
int64_t latest_schema_version();

// Applies every migration above the file's user_version, each in its own transaction (the
// version bump commits with the migration, so a crash leaves the file at a whole version).
// Refuses a file whose user_version is newer than latest_schema_version().
Status migrate(Connection& connection);

}  // namespace openbatch::store
