// Volume: 200,000 task records written in groups and paged back, by parent and by state.
// No timing asserts -- this checks that large groups and deep keyset paging work.
#include "tests/unit/store/store_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>

namespace openbatch::store {
namespace {

using testing::open_store;
using testing::page_query;
using testing::submit_and_wait;
using testing::TempDir;

constexpr int kOps = 200;
constexpr int kPerOp = 1000;
constexpr int kTotal = kOps * kPerOp;

std::string task_id(int n) { return "task-" + std::to_string(n); }

TEST(StoreVolume, TwoHundredThousandTasksInsertAndPage) {
  TempDir dir;
  auto store = open_store(dir.file("big.db"));
  const std::string body(300, 'b');
  std::atomic<int> failures{0};
  std::promise<void> all_done;
  std::atomic<int> remaining{kOps};
  for (int op = 0; op < kOps; ++op) {
    store->submit(
        [op, &body](Writer& w) {
          Record r;
          r.parent = "BigJob";
          r.body = body;
          for (int i = op * kPerOp; i < (op + 1) * kPerOp; ++i) {
            r.id = task_id(i);
            r.state = i % 10 == 0 ? "completed" : "active";
            if (!w.insert(Table::Tasks, r)) return false;
          }
          return true;
        },
        [&](const Status& status) {
          if (!status) ++failures;
          if (--remaining == 0) all_done.set_value();
        });
  }
  all_done.get_future().wait();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_EQ(store->stats().ops_rolled_back, 0U);

  auto reader = store->reader();
  EXPECT_EQ(reader->count(Table::Tasks, "bigjob", std::nullopt), kTotal);
  EXPECT_EQ(reader->count(Table::Tasks, "bigjob", "completed"), kTotal / 10);

  ListQuery query = page_query(Table::Tasks, "bigjob", std::nullopt, 1000);
  int next = 0;
  int pages = 0;
  for (auto page = reader->list(query); !page.empty(); page = reader->list(query)) {
    ++pages;
    for (const auto& r : page) {
      ASSERT_EQ(r.id, task_id(next)) << "out of insertion order";
      ++next;
    }
    query.after_seq = page.back().seq;
  }
  EXPECT_EQ(next, kTotal);
  EXPECT_EQ(pages, kTotal / 1000);

  ListQuery completed = page_query(Table::Tasks, "bigjob", "completed", 777);
  int seen = 0;
  for (auto page = reader->list(completed); !page.empty(); page = reader->list(completed)) {
    for (const auto& r : page) {
      ASSERT_EQ(r.id, task_id(seen * 10));
      ++seen;
    }
    completed.after_seq = page.back().seq;
  }
  EXPECT_EQ(seen, kTotal / 10);

  // Deleting a big job's tasks goes in bounded batches.
  std::size_t erased = 0;
  while (true) {
    std::size_t batch = 0;
    ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                  batch = w.erase_children(Table::Tasks, "bigjob", 50000);
                  return true;
                }).has_value());
    if (batch == 0) break;
    erased += batch;
  }
  EXPECT_EQ(erased, static_cast<std::size_t>(kTotal));
  EXPECT_EQ(reader->count(Table::Tasks, std::nullopt, std::nullopt), 0);
}

}  // namespace
}  // namespace openbatch::store
