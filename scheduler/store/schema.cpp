// Schema and forward migrations of the SQLite store. See README.md here for the table layout.
#include "scheduler/store/schema.hpp"

#include "scheduler/store/sqlite_connection.hpp"

#include <functional>
#include <string>
#include <vector>

namespace openbatch::store {
namespace {

// Migration 1: one table per store::Table. `key`/`parent_key` are the ASCII-lowercased id and
// parent (ids are [A-Za-z0-9_-]), so uniqueness and lookup are case-insensitive while `id` and
// `parent` keep the client's spelling. AUTOINCREMENT keeps seq from ever being reused after the
// newest row is deleted, so a keyset page boundary (after_seq) never hides a later insert.
//
// Per insert this costs three b-tree writes that matter: the table (append), the UNIQUE index
// (parent_key, key) and (parent_key, state, seq) -- plus (parent_key, seq), an append at the
// right edge of the parent's range. Both seq-ordered indexes end in the rowid, so keyset pages
// of one parent, with or without a state, are index range scans with no sort.
std::string initial_table_sql(std::string_view name) {
  const std::string t(name);
  return "CREATE TABLE " + t +
         " (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " parent_key TEXT NOT NULL, key TEXT NOT NULL,"
         " id TEXT NOT NULL, parent TEXT NOT NULL,"
         " state TEXT NOT NULL, body TEXT NOT NULL,"
         " UNIQUE (parent_key, key));\n"
         "CREATE INDEX " +
         t + "_by_parent ON " + t +
         " (parent_key, seq);\n"
         "CREATE INDEX " +
         t + "_by_parent_state ON " + t + " (parent_key, state, seq);\n";
}

std::string migration_1() {
  std::string sql;
  for (Table table : {Table::Pools, Table::Jobs, Table::Tasks, Table::Nodes, Table::Applications}) {
    sql += initial_table_sql(table_name(table));
  }
  return sql;
}

// Migration 2: token digests (pool join tokens, node tokens), kept out of entity bodies so no
// API answer can ever carry one.
std::string migration_2() { return initial_table_sql(table_name(Table::Credentials)); }

// Migration 3: failure markers, backfilled from the tasks that completed with a failure.
std::string migration_3() {
  return initial_table_sql(table_name(Table::TaskFailures)) +
         "INSERT INTO task_failures (parent_key, key, id, parent, state, body)"
         " SELECT parent_key, key, id, parent, 'failed', '{}' FROM tasks"
         " WHERE state = 'completed' AND instr(body, '\"result\":\"failure\"') > 0;\n";
}

// Migration 4: the instances of multi-instance tasks leave the task's JSON for rows of their
// own (subtask_rows.hpp), so a report rewrites one row instead of the whole gang. Existing
// gangs (openbatch.gang.attempts / .coordinated, openbatch.subtasks) become rows
// {"attemptId", "coordinated", "subtask"} with id "<task>/<k>", and leave their tasks.
std::string migration_4() {
  return initial_table_sql(table_name(Table::Subtasks)) +
         "WITH g AS (SELECT t.parent_key, t.key, t.id, t.parent, t.body,"
         "   a.key AS k, a.value AS attempt,"
         "   json_extract(t.body, '$.openbatch.gang.coordinated[' || a.key || ']') IS 1 AS c"
         "  FROM tasks t, json_each(t.body, '$.openbatch.gang.attempts') a"
         "  WHERE json_type(t.body, '$.openbatch.gang') = 'object'),"
         " r AS (SELECT g.*,"
         "   (SELECT s.value FROM json_each(g.body, '$.openbatch.subtasks') s"
         "    WHERE json_extract(s.value, '$.id') = g.k AND g.k > 0) AS sub,"
         "   json_object('attemptId', g.attempt, 'coordinated',"
         "    json(CASE WHEN g.c THEN 'true' ELSE 'false' END)) AS base"
         "  FROM g)"
         " INSERT INTO subtasks (parent_key, key, id, parent, state, body)"
         " SELECT parent_key, key || '/' || k, id || '/' || k, parent,"
         "  COALESCE(json_extract(sub, '$.state'), CASE WHEN c THEN 'running' ELSE 'preparing' "
         "END),"
         "  CASE WHEN sub IS NULL THEN base ELSE json_set(base, '$.subtask', json(sub)) END"
         " FROM r;\n"
         "UPDATE tasks SET body = json_remove(body, '$.openbatch.gang', '$.openbatch.subtasks')"
         " WHERE json_type(body, '$.openbatch.gang') IS NOT NULL"
         " OR json_type(body, '$.openbatch.subtasks') IS NOT NULL;\n";
}

// The ordered migrations: entry i takes user_version i to i + 1. Append only; never edit one
// that has shipped.
const std::vector<std::function<std::string()>>& migrations() {
  static const std::vector<std::function<std::string()>> kMigrations = {migration_1, migration_2,
                                                                        migration_3, migration_4};
  return kMigrations;
}

Status apply_migration(Connection& connection, std::size_t index) {
  const int64_t version = static_cast<int64_t>(index) + 1;
  if (auto st = connection.exec("BEGIN IMMEDIATE"); !st) return st;
  const std::string sql =
      migrations()[index]() + "PRAGMA user_version = " + std::to_string(version) + ";";
  if (auto st = connection.exec(sql.c_str()); !st) {
    (void)connection.exec("ROLLBACK");
    return Error(500, "InternalError",
                 "store migration to schema version " + std::to_string(version) +
                     " failed: " + st.error().message);
  }
  if (auto st = connection.exec("COMMIT"); !st) {
    (void)connection.exec("ROLLBACK");
    return st;
  }
  return {};
}

}  // namespace

std::string_view table_name(Table table) {
  switch (table) {
    case Table::Pools:
      return "pools";
    case Table::Jobs:
      return "jobs";
    case Table::Tasks:
      return "tasks";
    case Table::Nodes:
      return "nodes";
    case Table::Applications:
      return "applications";
    case Table::Credentials:
      return "credentials";
    case Table::TaskFailures:
      return "task_failures";
    case Table::Subtasks:
      return "subtasks";
  }
  return "pools";  // unreachable: every enumerator is handled above
}

int64_t latest_schema_version() { return static_cast<int64_t>(migrations().size()); }

Status migrate(Connection& connection) {
  auto version = connection.query_int("PRAGMA user_version");
  if (!version) return version.error();
  const int64_t latest = latest_schema_version();
  if (*version > latest) {
    return Error(500, "UnsupportedStoreVersion",
                 "the database schema version " + std::to_string(*version) +
                     " is newer than this build supports (" + std::to_string(latest) +
                     "); upgrade OpenBatch to open it");
  }
  if (*version < 0) {
    return Error(500, "UnsupportedStoreVersion",
                 "the database has an invalid schema version " + std::to_string(*version));
  }
  for (auto i = static_cast<std::size_t>(*version); i < migrations().size(); ++i) {
    if (auto st = apply_migration(connection, i); !st) return st;
  }
  return {};
}

}  // namespace openbatch::store
