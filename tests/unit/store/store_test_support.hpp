// Helpers for the store tests: a temporary directory, opening a SqliteStore in it, and
// submitting a write and waiting for its completion.
#pragma once

#include "scheduler/store/sqlite_store.hpp"
#include "scheduler/store/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <stdlib.h>
#include <string>

namespace openbatch::store::testing {

using TempDir = openbatch::testing::TempDir;

inline std::unique_ptr<SqliteStore> open_store(const std::string& path,
                                               std::size_t max_group_ops = 4096) {
  auto store = SqliteStore::open({.path = path, .max_group_ops = max_group_ops});
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

// Submits `op` and blocks until its group has committed (or failed).
inline Status submit_and_wait(Store& store, WriteOp op) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  store.submit(std::move(op), [&promise](const Status& status) { promise.set_value(status); });
  return future.get();
}

inline Record make_record(std::string id, std::string parent = {}, std::string state = "active",
                          std::string body = "{}") {
  Record record;
  record.id = std::move(id);
  record.parent = std::move(parent);
  record.state = std::move(state);
  record.body = std::move(body);
  return record;
}

inline ListQuery page_query(Table table, std::optional<std::string> parent = std::nullopt,
                            std::optional<std::string> state = std::nullopt,
                            std::size_t limit = 1000) {
  ListQuery query;
  query.table = table;
  query.parent = std::move(parent);
  query.state = std::move(state);
  query.limit = limit;
  return query;
}

// Inserts one record through the writer; returns the insert's answer (false on duplicate).
inline bool insert_one(Store& store, Table table, Record record) {
  bool inserted = false;
  auto status = submit_and_wait(store, [&](Writer& w) {
    inserted = w.insert(table, record);
    return inserted;
  });
  EXPECT_TRUE(status.has_value());
  return inserted;
}

// A raw connection, for checking what is really in the file.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db_);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The first column of every row of `sql`, as text.
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out.emplace_back(text != nullptr ? text : "");
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string scalar(const std::string& sql) {
    auto values = column(sql);
    return values.empty() ? std::string() : values.front();
  }
  // Every `detail` line of EXPLAIN QUERY PLAN for `sql`, joined by " | ".
  std::string plan(const std::string& sql) {
    std::string joined;
    sqlite3_stmt* stmt = nullptr;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db_, explain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << explain << ": " << sqlite3_errmsg(db_);
      return joined;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      if (!joined.empty()) joined += " | ";
      joined += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    return joined;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace openbatch::store::testing
