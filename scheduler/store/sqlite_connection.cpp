// Connection: opening, pragmas, and the per-(table, statement) prepared statement cache.
#include "scheduler/store/sqlite_connection.hpp"

#include "scheduler/store/disk_space.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace openbatch::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// WAL files are truncated back to this size after a checkpoint, so a burst of writes does not
// leave a multi-gigabyte -wal file behind.
constexpr int64_t kJournalSizeLimitBytes = 64LL * 1024 * 1024;

constexpr const char* kColumns = "seq, id, parent, state, body";

}  // namespace

std::string statement_sql(Table table, Sql which) {
  const std::string t(table_name(table));
  const std::string select = std::string("SELECT ") + kColumns + " FROM " + t;
  std::string count = "SELECT count(*) FROM " + t;
  const std::string page = " AND seq > ? ORDER BY seq LIMIT ?";
  switch (which) {
    case Sql::Get:
      return select + " WHERE parent_key = ? AND key = ?";
    case Sql::Insert:
      return "INSERT INTO " + t +
             " (parent_key, key, id, parent, state, body) VALUES (?, ?, ?, ?, ?, ?)"
             " ON CONFLICT (parent_key, key) DO NOTHING";
    case Sql::Update:
      return "UPDATE " + t + " SET state = ?, body = ? WHERE parent_key = ? AND key = ?";
    case Sql::Erase:
      return "DELETE FROM " + t + " WHERE parent_key = ? AND key = ?";
    case Sql::EraseChildren:
      return "DELETE FROM " + t + " WHERE seq IN (SELECT seq FROM " + t +
             " WHERE parent_key = ? ORDER BY seq LIMIT ?)";
    case Sql::ListAll:
      return select + " WHERE 1" + page;
    case Sql::ListByParent:
      return select + " WHERE parent_key = ?" + page;
    case Sql::ListByState:
      return select + " WHERE state = ?" + page;
    case Sql::ListByParentState:
      return select + " WHERE parent_key = ? AND state = ?" + page;
    case Sql::CountAll:
      return count;
    case Sql::CountByParent:
      return count + " WHERE parent_key = ?";
    case Sql::CountByState:
      return count + " WHERE state = ?";
    case Sql::CountByParentState:
      return count + " WHERE parent_key = ? AND state = ?";
  }
  return {};
}

namespace {

const char* control_sql(Control which) {
  switch (which) {
    case Control::Begin:
      return "BEGIN IMMEDIATE";
    case Control::Commit:
      return "COMMIT";
    case Control::Rollback:
      return "ROLLBACK";
    case Control::Savepoint:
      return "SAVEPOINT op";
    case Control::Release:
      return "RELEASE op";
    case Control::RollbackToSavepoint:
      return "ROLLBACK TO op";
  }
  return "";
}

}  // namespace

int bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                     const ConnectionOptions& options) {
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // The Connection owns `db` from here on, even when opening failed (sqlite3 allocates it).
  std::unique_ptr<Connection> connection(new Connection(db));
  if (rc != SQLITE_OK) {
    return Error(500, "InternalError",
                 "cannot open the store database " + path + ": " +
                     (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db, 1);
  if (auto st = connection->apply_pragmas(options); !st) return st.error();
  return connection;
}

Status Connection::apply_pragmas(const ConnectionOptions& options) {
  if (int rc = sqlite3_busy_timeout(db_, kBusyTimeoutMs); rc != SQLITE_OK) {
    return error("setting busy_timeout");
  }
  // A bounded page cache and no mmap on every connection keep RSS predictable however large
  // the file grows (mapped pages would count toward RSS once per connection that touched them).
  const std::string cache =
      "PRAGMA cache_size = -" + std::to_string(options.cache_kib) + "; PRAGMA mmap_size = 0;";
  if (auto st = exec(cache.c_str()); !st) return st;
  if (options.read_only) return {};

  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) != SQLITE_OK) {
    return error("enabling WAL");
  }
  std::string mode;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (mode != "wal") {
    return Error(500, "InternalError",
                 "the store database refused WAL mode (journal_mode is '" + mode +
                     "'): " + sqlite3_errmsg(db_));
  }
  // No FOREIGN KEY constraints are declared: children are erased explicitly, in bounded
  // batches (erase_children), so one request never deletes a million rows in one go.
  const std::string writer_pragmas = std::string("PRAGMA synchronous = ") +
                                     (options.synchronous_full ? "FULL" : "NORMAL") +
                                     "; PRAGMA foreign_keys = OFF; PRAGMA journal_size_limit = " +
                                     std::to_string(kJournalSizeLimitBytes) + ";";
  return exec(writer_pragmas.c_str());
}

Connection::~Connection() {
  for (auto& row : table_statements_) {
    for (sqlite3_stmt* stmt : row) sqlite3_finalize(stmt);
  }
  for (sqlite3_stmt* stmt : control_statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Connection::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    if (is_disk_full(sqlite3_extended_errcode(db_), sqlite3_system_errno(db_))) {
      spdlog::warn("store: {}: {}", sql, text);
      return insufficient_disk_space({});
    }
    return Error(500, "InternalError", std::string("store SQL failed (") + sql + "): " + text);
  }
  return {};
}

Result<int64_t> Connection::query_int(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return error(sql);
  const int rc = sqlite3_step(stmt);
  const int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  Result<int64_t> result = value;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) result = error(sql);
  sqlite3_finalize(stmt);
  return result;
}

Result<sqlite3_stmt*> Connection::statement(Table table, Sql which) {
  sqlite3_stmt*& slot =
      table_statements_[static_cast<std::size_t>(table)][static_cast<std::size_t>(which)];
  if (slot == nullptr) {
    const std::string sql = statement_sql(table, which);
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr) !=
        SQLITE_OK) {
      slot = nullptr;
      return error("preparing " + sql);
    }
  }
  return slot;
}

Result<sqlite3_stmt*> Connection::control(Control which) {
  sqlite3_stmt*& slot = control_statements_[static_cast<std::size_t>(which)];
  if (slot == nullptr) {
    if (sqlite3_prepare_v3(db_, control_sql(which), -1, SQLITE_PREPARE_PERSISTENT, &slot,
                           nullptr) != SQLITE_OK) {
      slot = nullptr;
      return error(std::string("preparing ") + control_sql(which));
    }
  }
  return slot;
}

Error Connection::error(std::string_view what) const {
  // No space for the WAL or the database: the clear disk-space error, not a 500.
  if (is_disk_full(sqlite3_extended_errcode(db_), sqlite3_system_errno(db_))) {
    spdlog::warn("store: {} failed: {}", what, sqlite3_errmsg(db_));
    return insufficient_disk_space({});
  }
  return Error(500, "InternalError",
               "store " + std::string(what) + " failed: " + sqlite3_errmsg(db_));
}

}  // namespace openbatch::store
