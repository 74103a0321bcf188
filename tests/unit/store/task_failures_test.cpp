// Failure markers: idempotent mark/clear, counted per job; and migration 3 backfills them
// from a version-2 database's failed tasks.
#include "scheduler/store/task_failures.hpp"

#include "scheduler/store/schema.hpp"
#include "tests/unit/store/store_test_support.hpp"

namespace openbatch::store::testing {
namespace {

TEST(TaskFailures, MarksAreIdempotentAndCountedPerJob) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    return mark_task_failed(w, "job", "a") && mark_task_failed(w, "job", "a") &&
           mark_task_failed(w, "JOB", "b") && mark_task_failed(w, "other", "a");
  }));
  EXPECT_EQ(failed_task_count(*store->reader(), "job"), 2);
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    clear_task_failed(w, "job", "a");
    clear_task_failed(w, "job", "never-marked");
    return true;
  }));
  EXPECT_EQ(failed_task_count(*store->reader(), "Job"), 1);
  EXPECT_EQ(failed_task_count(*store->reader(), "other"), 1);
}

TEST(TaskFailures, MigrationBackfillsFailedTasksOfAnOlderDatabase) {
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    // A version-2 file: the store as it was before the markers, with two failed tasks.
    RawDb db(path);
    for (const char* table : {"pools", "jobs", "tasks", "nodes", "applications", "credentials"}) {
      db.column(
          std::string("CREATE TABLE ") + table +
          " (seq INTEGER PRIMARY KEY AUTOINCREMENT, parent_key TEXT NOT NULL, key TEXT NOT NULL,"
          " id TEXT NOT NULL, parent TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,"
          " UNIQUE (parent_key, key))");
      db.column(std::string("CREATE INDEX ") + table + "_by_parent ON " + table +
                " (parent_key, seq)");
      db.column(std::string("CREATE INDEX ") + table + "_by_parent_state ON " + table +
                " (parent_key, state, seq)");
    }
    db.column(R"(INSERT INTO tasks (parent_key, key, id, parent, state, body) VALUES
      ('job', 't1', 't1', 'Job', 'completed', '{"executionInfo":{"result":"failure"}}'),
      ('job', 't2', 't2', 'Job', 'completed', '{"executionInfo":{"result":"success"}}'),
      ('job', 't3', 't3', 'Job', 'completed', '{"executionInfo":{"result":"failure"}}'),
      ('job', 't4', 't4', 'Job', 'active', '{}'))");
    db.column("PRAGMA user_version = 2");
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(failed_task_count(*store->reader(), "job"), 2);
  EXPECT_TRUE(store->reader()->get(Table::TaskFailures, "job", "t3").has_value());
}

}  // namespace
}  // namespace openbatch::store::testing
