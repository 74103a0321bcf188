// Record operations of the SQLite store: insert/get/list/update/erase/erase_children, case
// handling, keyset paging, state filters and counts.
#include "tests/unit/store/store_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace openbatch::store {
namespace {

using testing::insert_one;
using testing::make_record;
using testing::open_store;
using testing::page_query;
using testing::submit_and_wait;
using testing::TempDir;

std::vector<std::string> ids_of(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

TEST(StoreRecords, InsertedRecordIsReadBackWithItsSeq) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  Record pool = make_record("Pool-1", "", "Active", R"({"id":"Pool-1"})");
  int64_t seq = 0;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                bool ok = w.insert(Table::Pools, pool);
                seq = pool.seq;
                return ok;
              }).has_value());
  EXPECT_GT(seq, 0);

  auto got = store->reader()->get(Table::Pools, "", "pool-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, "Pool-1");  // case preserved
  EXPECT_EQ(got->parent, "");
  EXPECT_EQ(got->state, "active");  // states are stored lowercase
  EXPECT_EQ(got->body, R"({"id":"Pool-1"})");
  EXPECT_EQ(got->seq, seq);
}

TEST(StoreRecords, DuplicateIdInAnyCaseIsRefused) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  EXPECT_TRUE(insert_one(*store, Table::Jobs, make_record("MyJob")));
  EXPECT_FALSE(insert_one(*store, Table::Jobs, make_record("myjob", "", "active", "second")));
  EXPECT_FALSE(insert_one(*store, Table::Jobs, make_record("MYJOB")));
  auto reader = store->reader();
  EXPECT_EQ(reader->count(Table::Jobs, "", std::nullopt), 1);
  EXPECT_EQ(reader->get(Table::Jobs, "", "MyJoB")->body, "{}");
}

TEST(StoreRecords, SameIdUnderDifferentParentsOrTablesIsAllowed) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  EXPECT_TRUE(insert_one(*store, Table::Tasks, make_record("t1", "jobA")));
  EXPECT_TRUE(insert_one(*store, Table::Tasks, make_record("t1", "jobB")));
  EXPECT_FALSE(insert_one(*store, Table::Tasks, make_record("T1", "JOBA")));
  EXPECT_TRUE(insert_one(*store, Table::Jobs, make_record("t1")));
  auto reader = store->reader();
  EXPECT_EQ(reader->get(Table::Tasks, "joba", "t1")->parent, "jobA");
  EXPECT_FALSE(reader->get(Table::Tasks, "jobC", "t1").has_value());
  EXPECT_FALSE(reader->get(Table::Nodes, "jobA", "t1").has_value());
}

TEST(StoreRecords, UpdateReplacesStateAndBodyOnlyWhenPresent) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(insert_one(*store, Table::Tasks, make_record("Task1", "Job", "active", "v1")));
  bool updated = false;
  bool missing = true;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                updated = w.update(Table::Tasks, make_record("TASK1", "job", "Completed", "v2"));
                missing = w.update(Table::Tasks, make_record("nope", "job", "completed", "x"));
                return true;
              }).has_value());
  EXPECT_TRUE(updated);
  EXPECT_FALSE(missing);
  auto got = store->reader()->get(Table::Tasks, "JOB", "task1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, "Task1");
  EXPECT_EQ(got->state, "completed");
  EXPECT_EQ(got->body, "v2");
  EXPECT_FALSE(store->reader()->get(Table::Tasks, "job", "nope").has_value());
}

TEST(StoreRecords, EraseRemovesOneRecordAndReportsAbsence) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(insert_one(*store, Table::Nodes, make_record("n1", "pool")));
  ASSERT_TRUE(insert_one(*store, Table::Nodes, make_record("n2", "pool")));
  bool first = false;
  bool again = true;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                first = w.erase(Table::Nodes, "POOL", "N1");
                again = w.erase(Table::Nodes, "pool", "n1");
                return true;
              }).has_value());
  EXPECT_TRUE(first);
  EXPECT_FALSE(again);
  auto reader = store->reader();
  EXPECT_FALSE(reader->get(Table::Nodes, "pool", "n1").has_value());
  EXPECT_TRUE(reader->get(Table::Nodes, "pool", "n2").has_value());
}

TEST(StoreRecords, EraseChildrenDeletesOldestFirstUpToTheLimit) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
                for (int i = 0; i < 10; ++i) {
                  Record r = make_record("t" + std::to_string(i), "job1");
                  if (!w.insert(Table::Tasks, r)) return false;
                }
                Record other = make_record("t0", "job2");
                return w.insert(Table::Tasks, other);
              }).has_value());
  std::size_t first = 0;
  std::size_t rest = 0;
  std::size_t none = 1;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                first = w.erase_children(Table::Tasks, "JOB1", 4);
                rest = w.erase_children(Table::Tasks, "job1", 100);
                none = w.erase_children(Table::Tasks, "job1", 100);
                return true;
              }).has_value());
  EXPECT_EQ(first, 4U);
  EXPECT_EQ(rest, 6U);
  EXPECT_EQ(none, 0U);
  auto reader = store->reader();
  EXPECT_EQ(reader->count(Table::Tasks, "job1", std::nullopt), 0);
  EXPECT_EQ(reader->count(Table::Tasks, "job2", std::nullopt), 1);
}

TEST(StoreRecords, EraseChildrenWithLimitKeepsTheNewest) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(insert_one(*store, Table::Tasks, make_record("t" + std::to_string(i), "job")));
  }
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
                return w.erase_children(Table::Tasks, "job", 3) == 3;
              }).has_value());
  auto left = store->reader()->list(page_query(Table::Tasks, "job"));
  EXPECT_EQ(ids_of(left), (std::vector<std::string>{"t3", "t4"}));
}

TEST(StoreRecords, KeysetPagingWalksEveryRecordOnceInInsertionOrder) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  std::vector<std::string> inserted;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                for (int i = 0; i < 25; ++i) {
                  // Ids deliberately not in lexical order, so only seq can give this order.
                  Record r = make_record("task-" + std::to_string((i * 7) % 25), "job");
                  if (!w.insert(Table::Tasks, r)) return false;
                  inserted.push_back(r.id);
                }
                Record other = make_record("x", "other-job");
                return w.insert(Table::Tasks, other);
              }).has_value());

  auto reader = store->reader();
  std::vector<std::string> seen;
  ListQuery query = page_query(Table::Tasks, "JOB", std::nullopt, 10);
  std::size_t pages = 0;
  for (;;) {
    auto page = reader->list(query);
    if (page.empty()) break;
    ++pages;
    EXPECT_LE(page.size(), 10U);
    for (std::size_t i = 1; i < page.size(); ++i) EXPECT_LT(page[i - 1].seq, page[i].seq);
    for (const auto& r : page) seen.push_back(r.id);
    query.after_seq = page.back().seq;
  }
  EXPECT_EQ(pages, 3U);
  EXPECT_EQ(seen, inserted);
}

TEST(StoreRecords, ListWithoutParentCoversAllParents) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(insert_one(*store, Table::Tasks, make_record("a", "j1")));
  ASSERT_TRUE(insert_one(*store, Table::Tasks, make_record("b", "j2")));
  ASSERT_TRUE(insert_one(*store, Table::Tasks, make_record("c", "j1", "completed")));
  auto reader = store->reader();
  EXPECT_EQ(ids_of(reader->list(page_query(Table::Tasks))),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ids_of(reader->list(page_query(Table::Tasks, std::nullopt, "ACTIVE"))),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader->count(Table::Tasks, std::nullopt, std::nullopt), 3);
  EXPECT_EQ(reader->count(Table::Tasks, std::nullopt, "active"), 2);
}

TEST(StoreRecords, StateFilterAndCountCompareCaseInsensitively) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
                const char* states[] = {"active", "Completed", "running", "ACTIVE", "completed"};
                for (int i = 0; i < 5; ++i) {
                  Record r = make_record("t" + std::to_string(i), "job", states[i]);
                  if (!w.insert(Table::Tasks, r)) return false;
                }
                return true;
              }).has_value());
  auto reader = store->reader();
  auto completed = reader->list(page_query(Table::Tasks, "job", "COMPLETED"));
  EXPECT_EQ(ids_of(completed), (std::vector<std::string>{"t1", "t4"}));
  auto active = reader->list(page_query(Table::Tasks, "job", "active"));
  EXPECT_EQ(ids_of(active), (std::vector<std::string>{"t0", "t3"}));
  EXPECT_EQ(reader->count(Table::Tasks, "Job", std::nullopt), 5);
  EXPECT_EQ(reader->count(Table::Tasks, "job", "Running"), 1);
  EXPECT_EQ(reader->count(Table::Tasks, "job", "preparing"), 0);
  EXPECT_EQ(reader->count(Table::Tasks, "other", std::nullopt), 0);
}

TEST(StoreRecords, StateFilteredPagesResumeAfterTheLastSeq) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
                for (int i = 0; i < 30; ++i) {
                  Record r = make_record("t" + std::to_string(i), "", i % 3 == 0 ? "idle" : "busy");
                  if (!w.insert(Table::Pools, r)) return false;
                }
                return true;
              }).has_value());
  auto reader = store->reader();
  ListQuery query = page_query(Table::Pools, "", "idle", 4);
  std::vector<std::string> seen;
  for (auto page = reader->list(query); !page.empty(); page = reader->list(query)) {
    for (const auto& r : page) seen.push_back(r.id);
    query.after_seq = page.back().seq;
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 30; i += 3) expected.push_back("t" + std::to_string(i));
  EXPECT_EQ(seen, expected);
}

TEST(StoreRecords, WriterReadsSeeTheGroupsUncommittedChanges) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  int64_t count_inside = -1;
  bool found_inside = false;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                Record r = make_record("p", "", "active");
                if (!w.insert(Table::Pools, r)) return false;
                found_inside = w.get(Table::Pools, "", "P").has_value();
                count_inside = w.count(Table::Pools, "", "active");
                return w.list(page_query(Table::Pools)).size() == 1;
              }).has_value());
  EXPECT_TRUE(found_inside);
  EXPECT_EQ(count_inside, 1);
}

TEST(StoreRecords, ZeroLimitListReturnsNothing) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  ASSERT_TRUE(insert_one(*store, Table::Applications, make_record("app")));
  EXPECT_TRUE(store->reader()
                  ->list(page_query(Table::Applications, std::nullopt, std::nullopt, 0))
                  .empty());
  EXPECT_EQ(store->reader()->list(page_query(Table::Applications)).size(), 1U);
}

}  // namespace
}  // namespace openbatch::store
