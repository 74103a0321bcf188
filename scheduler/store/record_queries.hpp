// Record queries on one Connection: the SQL behind Reader and Writer, reporting SQLite failures
// as Error values. ConnectionWriter is the Writer handed to WriteOps on the writer thread.
//
// Threading: everything here runs on the thread that currently owns the Connection.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/sqlite_connection.hpp"
#include "scheduler/store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch::store {

// Ids and states are [A-Za-z0-9_-] and lowercase enums, so ASCII lowercasing is the whole of

Result<std::optional<Record>> query_get(Connection& connection, Table table,
                                        std::string_view parent, std::string_view id);
Result<std::vector<Record>> query_list(Connection& connection, const ListQuery& query);
Result<int64_t> query_count(Connection& connection, Table table,
                            std::optional<std::string_view> parent,
                            std::optional<std::string_view> state);

// The Writer over the write connection, inside the group transaction. A SQLite failure makes
// the call report "nothing done" (false / 0 / empty) and is remembered: the writer loop then
// rolls the op back and hands it the Error, so a disk error is never mistaken for a duplicate.
class ConnectionWriter final : public Writer {
 public:
  explicit ConnectionWriter(Connection& connection) : connection_(connection) {}

  std::optional<Record> get(Table table, std::string_view parent, std::string_view id) override;
  std::vector<Record> list(const ListQuery& query) override;
  int64_t count(Table table, std::optional<std::string_view> parent,
                std::optional<std::string_view> state) override;

  bool insert(Table table, Record& record) override;
  bool update(Table table, const Record& record) override;
  bool erase(Table table, std::string_view parent, std::string_view id) override;
  std::size_t erase_children(Table table, std::string_view parent, std::size_t limit) override;

  // The first failure since the previous call, and clears it.
  std::optional<Error> take_failure();

  // Change recording for the change feed: while on, every successful write is appended to the
  // current op's list; take_changes() hands the list over (the op was kept) and
  // drop_changes() forgets it (the op was rolled back).
  void record_changes(bool on) { recording_ = on; }
  std::vector<Change> take_changes() { return std::exchange(changes_, {}); }
  void drop_changes() { changes_.clear(); }

 private:
  void note(Error error);
  // Steps a bound write statement to completion; false (and noted) on a SQLite error.
  bool step_write(sqlite3_stmt* stmt, std::string_view what);

  Connection& connection_;
  std::optional<Error> failure_;
  bool recording_ = false;
  std::vector<Change> changes_;
  // Lowercased keys of the current call, kept as members so the hot insert path reuses their
  // buffers instead of allocating per record.
  std::string parent_key_;
  std::string key_;
  std::string state_;
};

}  // namespace openbatch::store
