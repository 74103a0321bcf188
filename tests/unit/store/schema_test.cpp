// Schema versioning and the query plans of the SQLite store: migrations set user_version, a
// newer file is refused, and the hot statements use the indexes (no scans, no sorts).
#include "scheduler/store/schema.hpp"

#include "scheduler/store/sqlite_connection.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace openbatch::store {
namespace {

using testing::insert_one;
using testing::make_record;
using testing::open_store;
using testing::RawDb;
using testing::TempDir;

TEST(StoreSchema, MigratingAnEmptyFileSetsTheLatestUserVersion) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  std::ofstream(path).close();  // an existing, zero-byte file
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
  }
  RawDb db(path);
  EXPECT_EQ(db.scalar("PRAGMA user_version"), std::to_string(latest_schema_version()));
  EXPECT_GE(latest_schema_version(), 1);
  EXPECT_EQ(db.scalar("PRAGMA journal_mode"), "wal");
  for (const char* table : {"pools", "jobs", "tasks", "nodes", "applications"}) {
    EXPECT_EQ(
        db.scalar(std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") + table + "'"),
        "1")
        << table;
  }
}

TEST(StoreSchema, ReopeningAMigratedFileKeepsItsData) {
  TempDir dir;
  const std::string path = dir.file("s.db");
  {
    auto store = open_store(path);
    ASSERT_TRUE(insert_one(*store, Table::Pools, make_record("p1")));
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->reader()->get(Table::Pools, "", "p1").has_value());
}

TEST(StoreSchema, AFileFromANewerVersionIsRefused) {
  TempDir dir;
  const std::string path = dir.file("future.db");
  {
    RawDb db(path);
    db.column("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  auto store = open_sqlite_store({.path = path});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, "UnsupportedStoreVersion");
  EXPECT_NE(store.error().message.find(std::to_string(latest_schema_version() + 1)),
            std::string::npos)
      << store.error().message;
  RawDb db(path);  // untouched
  EXPECT_EQ(db.scalar("PRAGMA user_version"), std::to_string(latest_schema_version() + 1));
}

TEST(StoreSchema, AMissingDirectoryIsAnErrorNotACrash) {
  TempDir dir;
  auto store = open_sqlite_store({.path = dir.file("no/such/dir/s.db")});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().status, 500);
  EXPECT_NE(store.error().message.find("no/such/dir"), std::string::npos);
}

TEST(StoreSchema, AFileThatIsNotADatabaseIsRefused) {
  TempDir dir;
  const std::string path = dir.file("garbage.db");
  std::ofstream(path) << std::string(4096, 'x');
  auto store = open_sqlite_store({.path = path});
  EXPECT_FALSE(store.has_value());
}

// Each hot statement must be an index range or lookup: a full SCAN or a TEMP B-TREE sort would
// make a page of a million-task job cost O(job) instead of O(page).
TEST(StoreSchema, HotStatementsUseIndexesWithoutScansOrSorts) {
  TempDir dir;
  const std::string path = dir.file("s.db");
  { auto store = open_store(path); }
  RawDb db(path);
  for (Table table : kAllTables) {
    for (Sql which : {Sql::Get, Sql::Update, Sql::Erase, Sql::EraseChildren, Sql::ListByParent,
                      Sql::ListByParentState, Sql::CountByParent, Sql::CountByParentState}) {
      const std::string plan = db.plan(statement_sql(table, which));
      EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
      EXPECT_NE(plan.find("INDEX"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("SCAN " + std::string(table_name(table)) + " "), std::string::npos)
          << plan;
    }
    // Paging everything (no parent) walks the table in rowid order: still no sort.
    const std::string all = db.plan(statement_sql(table, Sql::ListAll));
    EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << all;
  }
}

}  // namespace
}  // namespace openbatch::store
