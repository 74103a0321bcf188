// Record queries: get/list/count on any connection, insert/update/erase on the write one.
#include "scheduler/store/record_queries.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>
#include <limits>

namespace openbatch::store {
namespace {

int bind_value(sqlite3_stmt* stmt, int index, std::string_view text) {
  return bind_text(stmt, index, text);
}
int bind_value(sqlite3_stmt* stmt, int index, int64_t value) {
  return sqlite3_bind_int64(stmt, index, value);
}

// Binds `values` to parameters 1..N; true when every bind succeeded.
template <class... Values>
bool bind_all(sqlite3_stmt* stmt, const Values&... values) {
  int index = 0;
  int rc = SQLITE_OK;
  ((rc = rc == SQLITE_OK ? bind_value(stmt, ++index, values) : rc), ...);
  return rc == SQLITE_OK;
}

int64_t clamp_limit(std::size_t limit) {
  return static_cast<int64_t>(
      std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<int64_t>::max())));
}

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text != nullptr
             ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)))
             : std::string();
}

// Columns in the order of kColumns: seq, id, parent, state, body.
Record read_record(sqlite3_stmt* stmt) {
  Record record;
  record.seq = sqlite3_column_int64(stmt, 0);
  record.id = column_text(stmt, 1);
  record.parent = column_text(stmt, 2);
  record.state = column_text(stmt, 3);
  record.body = column_text(stmt, 4);
  return record;
}

}  // namespace

Result<std::optional<Record>> query_get(Connection& connection, Table table,
                                        std::string_view parent, std::string_view id) {
  auto stmt = connection.statement(table, Sql::Get);
  if (!stmt) return stmt.error();
  const std::string parent_key = text::to_lower(parent);
  const std::string key = text::to_lower(id);
  StatementScope scope(*stmt);
  if (!bind_all(*stmt, std::string_view(parent_key), std::string_view(key))) {
    return connection.error("get (bind)");
  }
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return std::optional<Record>();
  if (rc != SQLITE_ROW) return connection.error("get");
  return std::optional<Record>(read_record(*stmt));
}

Result<std::vector<Record>> query_list(Connection& connection, const ListQuery& query) {
  const bool by_parent = query.parent.has_value();
  const bool by_state = query.state.has_value();
  const Sql which = by_parent ? (by_state ? Sql::ListByParentState : Sql::ListByParent)
                              : (by_state ? Sql::ListByState : Sql::ListAll);
  auto stmt = connection.statement(query.table, which);
  if (!stmt) return stmt.error();
  const std::string parent_key = by_parent ? text::to_lower(*query.parent) : std::string();
  const std::string state = by_state ? text::to_lower(*query.state) : std::string();
  StatementScope scope(*stmt);
  int index = 0;
  int rc = SQLITE_OK;
  if (by_parent) rc |= bind_text(*stmt, ++index, parent_key);
  if (by_state) rc |= bind_text(*stmt, ++index, state);
  rc |= sqlite3_bind_int64(*stmt, ++index, query.after_seq);
  rc |= sqlite3_bind_int64(*stmt, ++index, clamp_limit(query.limit));
  if (rc != SQLITE_OK) return connection.error("list (bind)");

  std::vector<Record> records;
  records.reserve(std::min<std::size_t>(query.limit, 1000));
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) records.push_back(read_record(*stmt));
  if (rc != SQLITE_DONE) return connection.error("list");
  return records;
}

Result<int64_t> query_count(Connection& connection, Table table,
                            std::optional<std::string_view> parent,
                            std::optional<std::string_view> state) {
  const Sql which = parent ? (state ? Sql::CountByParentState : Sql::CountByParent)
                           : (state ? Sql::CountByState : Sql::CountAll);
  auto stmt = connection.statement(table, which);
  if (!stmt) return stmt.error();
  const std::string parent_key = parent ? text::to_lower(*parent) : std::string();
  const std::string state_key = state ? text::to_lower(*state) : std::string();
  StatementScope scope(*stmt);
  int index = 0;
  int rc = SQLITE_OK;
  if (parent) rc |= bind_text(*stmt, ++index, parent_key);
  if (state) rc |= bind_text(*stmt, ++index, state_key);
  if (rc != SQLITE_OK) return connection.error("count (bind)");
  if (sqlite3_step(*stmt) != SQLITE_ROW) return connection.error("count");
  return sqlite3_column_int64(*stmt, 0);
}

std::optional<Record> ConnectionWriter::get(Table table, std::string_view parent,
                                            std::string_view id) {
  auto result = query_get(connection_, table, parent, id);
  if (!result) {
    note(result.error());
    return std::nullopt;
  }
  return std::move(*result);
}

std::vector<Record> ConnectionWriter::list(const ListQuery& query) {
  auto result = query_list(connection_, query);
  if (!result) {
    note(result.error());
    return {};
  }
  return std::move(*result);
}

int64_t ConnectionWriter::count(Table table, std::optional<std::string_view> parent,
                                std::optional<std::string_view> state) {
  auto result = query_count(connection_, table, parent, state);
  if (!result) {
    note(result.error());
    return 0;
  }
  return *result;
}

bool ConnectionWriter::insert(Table table, Record& record) {
  auto stmt = connection_.statement(table, Sql::Insert);
  if (!stmt) {
    note(stmt.error());
    return false;
  }
  text::assign_lower(parent_key_, record.parent);
  text::assign_lower(key_, record.id);
  text::assign_lower(state_, record.state);
  StatementScope scope(*stmt);
  if (!bind_all(*stmt, std::string_view(parent_key_), std::string_view(key_),
                std::string_view(record.id), std::string_view(record.parent),
                std::string_view(state_), std::string_view(record.body))) {
    note(connection_.error("insert (bind)"));
    return false;
  }
  if (!step_write(*stmt, "insert")) return false;
  // ON CONFLICT DO NOTHING: no row changed means (parent, id) already exists.
  if (sqlite3_changes(connection_.handle()) == 0) return false;
  record.seq = sqlite3_last_insert_rowid(connection_.handle());
  if (recording_) changes_.push_back(Change{Change::Kind::Upsert, table, record});
  return true;
}

bool ConnectionWriter::update(Table table, const Record& record) {
  auto stmt = connection_.statement(table, Sql::Update);
  if (!stmt) {
    note(stmt.error());
    return false;
  }
  text::assign_lower(parent_key_, record.parent);
  text::assign_lower(key_, record.id);
  text::assign_lower(state_, record.state);
  StatementScope scope(*stmt);
  if (!bind_all(*stmt, std::string_view(state_), std::string_view(record.body),
                std::string_view(parent_key_), std::string_view(key_))) {
    note(connection_.error("update (bind)"));
    return false;
  }
  if (!step_write(*stmt, "update") || sqlite3_changes(connection_.handle()) == 0) return false;
  if (recording_) changes_.push_back(Change{Change::Kind::Upsert, table, record});
  return true;
}

bool ConnectionWriter::erase(Table table, std::string_view parent, std::string_view id) {
  auto stmt = connection_.statement(table, Sql::Erase);
  if (!stmt) {
    note(stmt.error());
    return false;
  }
  text::assign_lower(parent_key_, parent);
  text::assign_lower(key_, id);
  StatementScope scope(*stmt);
  if (!bind_all(*stmt, std::string_view(parent_key_), std::string_view(key_))) {
    note(connection_.error("erase (bind)"));
    return false;
  }
  if (!step_write(*stmt, "erase") || sqlite3_changes(connection_.handle()) == 0) return false;
  if (recording_) {
    changes_.push_back(Change{Change::Kind::Erase, table,
                              Record{std::string(id), std::string(parent), {}, {}, 0}});
  }
  return true;
}

std::size_t ConnectionWriter::erase_children(Table table, std::string_view parent,
                                             std::size_t limit) {
  auto stmt = connection_.statement(table, Sql::EraseChildren);
  if (!stmt) {
    note(stmt.error());
    return 0;
  }
  text::assign_lower(parent_key_, parent);
  StatementScope scope(*stmt);
  if (!bind_all(*stmt, std::string_view(parent_key_), clamp_limit(limit))) {
    note(connection_.error("erase_children (bind)"));
    return 0;
  }
  if (!step_write(*stmt, "erase_children")) return 0;
  const auto removed = static_cast<std::size_t>(sqlite3_changes64(connection_.handle()));
  if (recording_ && removed > 0) {
    changes_.push_back(
        Change{Change::Kind::EraseChildren, table, Record{{}, std::string(parent), {}, {}, 0}});
  }
  return removed;
}

std::optional<Error> ConnectionWriter::take_failure() {
  std::optional<Error> failure = std::move(failure_);
  failure_.reset();
  return failure;
}

void ConnectionWriter::note(Error error) {
  if (!failure_) failure_ = std::move(error);
}

bool ConnectionWriter::step_write(sqlite3_stmt* stmt, std::string_view what) {
  if (sqlite3_step(stmt) == SQLITE_DONE) return true;
  note(connection_.error(what));
  return false;
}

}  // namespace openbatch::store
