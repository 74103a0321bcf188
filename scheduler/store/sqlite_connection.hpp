// Connection: one SQLite connection with its pragmas applied and its prepared statements
// cached per (table, statement), so the hot path never re-parses SQL.
//
// Threading: a Connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX); the
// writer thread owns the write connection, each Reader owns a pooled read connection.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/schema.hpp"
#include "scheduler/store/store.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace openbatch::store {

// The statements cached per table. List*/Count* variants: with or without a parent and a state
// filter, each a separate plan so every one can use the right index.
enum class Sql {
  Get,
  Insert,
  Update,
  Erase,
  EraseChildren,
  ListAll,
  ListByParent,
  ListByState,
  ListByParentState,
  CountAll,
  CountByParent,
  CountByState,
  CountByParentState,
};
inline constexpr std::size_t kSqlCount = 13;

// Statements that do not depend on a table: transaction and savepoint control.
enum class Control { Begin, Commit, Rollback, Savepoint, Release, RollbackToSavepoint };
inline constexpr std::size_t kControlCount = 6;

struct ConnectionOptions {
  bool read_only = false;
  bool synchronous_full = true;  // only meaningful for the write connection
  int cache_kib = 8 * 1024;      // page cache bound for this connection
};

class Connection {
 public:
  // Opens `path` (creating it unless read_only) and applies the pragmas. The write connection
  // also switches the file to WAL.
  static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                  const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows needed by the caller.
  Status exec(const char* sql);
  // Runs a single-row, single-column integer query (PRAGMA user_version, ...).
  Result<int64_t> query_int(const char* sql);

  // The cached prepared statement, prepared on first use; an Error if preparing failed.
  Result<sqlite3_stmt*> statement(Table table, Sql which);
  Result<sqlite3_stmt*> control(Control which);

  // An Error (500 InternalError) carrying `what` and this connection's last SQLite message.
  Error error(std::string_view what) const;
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  Status apply_pragmas(const ConnectionOptions& options);

  sqlite3* db_;
  std::array<std::array<sqlite3_stmt*, kSqlCount>, kAllTables.size()> table_statements_{};
  std::array<sqlite3_stmt*, kControlCount> control_statements_{};
};

// Resets a statement (and so ends its implicit read transaction) when the scope ends; a
// statement left un-reset would pin an old snapshot and stall WAL checkpoints.
class StatementScope {
 public:
  explicit StatementScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// The SQL text of a cached statement (tests check its query plan uses the indexes).
std::string statement_sql(Table table, Sql which);

// Binds `text` without copying: the caller keeps it alive until the statement is reset.
int bind_text(sqlite3_stmt* stmt, int index, std::string_view text);

}  // namespace openbatch::store
