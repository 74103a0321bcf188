// Subtask rows: put replaces an earlier dispatch's row, get is case-insensitive, a task's rows
// go with it; and migration 4 moves the gangs of a version-3 database out of their tasks.
#include "scheduler/store/subtask_rows.hpp"

#include "scheduler/store/schema.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::store::testing {
namespace {

TEST(SubtaskRows, PutInsertsThenReplacesAndEraseTakesTheTasksRowsOnly) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    return put_subtask_row(w, "Job", "Mpi", 0, "preparing", R"({"a":0})") &&
           put_subtask_row(w, "Job", "Mpi", 1, "preparing", R"({"a":1})") &&
           put_subtask_row(w, "Job", "Mpi", 2, "preparing", R"({"a":2})") &&
           put_subtask_row(w, "Job", "other", 0, "preparing", "{}") &&
           put_subtask_row(w, "job", "mpi", 1, "running", R"({"a":"again"})");
  }));
  auto reader = store->reader();
  auto row = get_subtask_row(*reader, "JOB", "MPI", 1);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->id, "Mpi/1");  // the spelling it was first stored with
  EXPECT_EQ(row->state, "running");
  EXPECT_EQ(row->body, R"({"a":"again"})");
  EXPECT_EQ(reader->count(Table::Subtasks, "job", std::nullopt), 4);
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    erase_subtask_rows(w, "job", "mpi");
    erase_subtask_rows(w, "job", "never-dispatched");
    return true;
  }));
  EXPECT_FALSE(get_subtask_row(*reader, "job", "mpi", 0));
  EXPECT_FALSE(get_subtask_row(*reader, "job", "mpi", 2));
  EXPECT_TRUE(get_subtask_row(*reader, "job", "other", 0));
}

TEST(SubtaskRows, MigrationMovesTheGangsOfAnOlderDatabaseOutOfTheirTasks) {
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    // A version-3 file: one running gang of 3 (instances 0 and 1 coordinated), a plain task.
    RawDb db(path);
    for (const char* table :
         {"pools", "jobs", "tasks", "nodes", "applications", "credentials", "task_failures"}) {
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
      ('job', 'mpi', 'Mpi', 'Job', 'running', '{"id":"Mpi","openbatch":{"mpiTransport":{"kind":"tcp"},
        "gang":{"attempts":["a","a:s1","a:s2"],"coordinated":[true,true,false]},
        "subtasks":[{"id":1,"state":"running","nodeInfo":{"nodeId":"n1"}},
                    {"id":2,"state":"preparing","nodeInfo":{"nodeId":"n2"}}]}}'),
      ('job', 'plain', 'plain', 'Job', 'active', '{"id":"plain"}'))");
    db.column("PRAGMA user_version = 3");
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  auto reader = store->reader();
  using nlohmann::json;
  auto row0 = get_subtask_row(*reader, "job", "mpi", 0);
  auto row1 = get_subtask_row(*reader, "job", "mpi", 1);
  auto row2 = get_subtask_row(*reader, "job", "mpi", 2);
  ASSERT_TRUE(row0 && row1 && row2);
  EXPECT_FALSE(get_subtask_row(*reader, "job", "mpi", 3));
  EXPECT_EQ(row0->id, "Mpi/0");
  EXPECT_EQ(row0->parent, "Job");
  EXPECT_EQ(json::parse(row0->body), json({{"attemptId", "a"}, {"coordinated", true}}));
  EXPECT_EQ(row0->state, "running");
  EXPECT_EQ(json::parse(row1->body), json::parse(R"({"attemptId":"a:s1","coordinated":true,
                            "subtask":{"id":1,"state":"running","nodeInfo":{"nodeId":"n1"}}})"));
  EXPECT_EQ(row2->state, "preparing");
  EXPECT_EQ(json::parse(row2->body)["coordinated"], false);
  EXPECT_EQ(json::parse(row2->body)["subtask"]["nodeInfo"]["nodeId"], "n2");
  // The task keeps everything else of its extension.
  EXPECT_EQ(json::parse(reader->get(Table::Tasks, "job", "mpi")->body),
            json::parse(R"({"id":"Mpi","openbatch":{"mpiTransport":{"kind":"tcp"}}})"));
  EXPECT_EQ(json::parse(reader->get(Table::Tasks, "job", "plain")->body),
            json::parse(R"({"id":"plain"})"));
  EXPECT_EQ(reader->count(Table::Subtasks, std::nullopt, std::nullopt), 3);
}

}  // namespace
}  // namespace openbatch::store::testing
