// Group commit in the SQLite store: per-op savepoints, grouping of concurrent submits,
// read isolation, and the behaviour around close().
#include "tests/unit/store/store_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace openbatch::store {
namespace {

using testing::insert_one;
using testing::make_record;
using testing::open_store;
using testing::submit_and_wait;
using testing::TempDir;

// Holds the writer thread inside an op until release(), so that later submits queue up and
// are guaranteed to form one group.
class WriterGate {
 public:
  void block(Store& store) {
    store.submit(
        [this](Writer&) {
          entered_.count_down();
          release_.wait();
          return true;
        },
        nullptr);
    entered_.wait();
  }
  void release() { release_.count_down(); }

 private:
  std::latch entered_{1};
  std::latch release_{1};
};

// Collects the Status of many ops and lets a test wait for all of them.
class Completions {
 public:
  WriteDone track() {
    return [this](const Status& status) {
      std::lock_guard lock(mutex_);
      statuses_.push_back(status);
      changed_.notify_all();
    };
  }
  std::vector<Status> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return statuses_.size() >= n; });
    return statuses_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Status> statuses_;
};

TEST(GroupCommit, OpReturningFalseRollsBackOnlyItsOwnWrites) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  WriterGate gate;
  gate.block(*store);
  Completions done;
  auto insert_op = [](const std::string& id, bool keep) {
    return [id, keep](Writer& w) {
      Record a = make_record(id + "-a");
      Record b = make_record(id + "-b");
      return w.insert(Table::Pools, a) && w.insert(Table::Pools, b) && keep;
    };
  };
  store->submit(insert_op("one", true), done.track());
  store->submit(insert_op("two", false), done.track());
  store->submit(insert_op("three", true), done.track());
  gate.release();
  for (const auto& status : done.wait_for(3)) EXPECT_TRUE(status.has_value());

  auto reader = store->reader();
  EXPECT_TRUE(reader->get(Table::Pools, "", "one-a").has_value());
  EXPECT_TRUE(reader->get(Table::Pools, "", "one-b").has_value());
  EXPECT_FALSE(reader->get(Table::Pools, "", "two-a").has_value());
  EXPECT_FALSE(reader->get(Table::Pools, "", "two-b").has_value());
  EXPECT_TRUE(reader->get(Table::Pools, "", "three-b").has_value());
  store->close();
  const auto stats = store->stats();
  EXPECT_EQ(stats.groups_committed, 2U);  // the gate's group, then the three ops together
  EXPECT_EQ(stats.ops_rolled_back, 1U);
  EXPECT_EQ(stats.largest_group, 3U);
}

TEST(GroupCommit, OpThatThrowsIsRolledBackAndToldWhileTheGroupCommits) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  WriterGate gate;
  gate.block(*store);
  std::promise<Status> before, thrower, after;
  store->submit(
      [](Writer& w) {
        Record r = make_record("before");
        return w.insert(Table::Jobs, r);
      },
      [&](const Status& s) { before.set_value(s); });
  store->submit(
      [](Writer& w) -> bool {
        Record r = make_record("thrower");
        w.insert(Table::Jobs, r);
        throw std::runtime_error("boom");
      },
      [&](const Status& s) { thrower.set_value(s); });
  store->submit(
      [](Writer& w) {
        Record r = make_record("after");
        return w.insert(Table::Jobs, r);
      },
      [&](const Status& s) { after.set_value(s); });
  gate.release();

  EXPECT_TRUE(before.get_future().get().has_value());
  auto thrown = thrower.get_future().get();
  ASSERT_FALSE(thrown.has_value());
  EXPECT_EQ(thrown.error().status, 500);
  EXPECT_NE(thrown.error().message.find("boom"), std::string::npos);
  EXPECT_TRUE(after.get_future().get().has_value());

  auto reader = store->reader();
  EXPECT_TRUE(reader->get(Table::Jobs, "", "before").has_value());
  EXPECT_FALSE(reader->get(Table::Jobs, "", "thrower").has_value());
  EXPECT_TRUE(reader->get(Table::Jobs, "", "after").has_value());
}

TEST(GroupCommit, ConcurrentSubmitsShareTransactions) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kPerThread = 125;
  Completions done;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < kPerThread; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        store->submit(
            [id](Writer& w) {
              Record r = make_record(id, "job");
              return w.insert(Table::Tasks, r);
            },
            done.track());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto statuses = done.wait_for(kThreads * kPerThread);
  for (const auto& status : statuses) EXPECT_TRUE(status.has_value());

  const auto stats = store->stats();
  EXPECT_EQ(stats.ops_committed, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LT(stats.groups_committed, stats.ops_committed);
  EXPECT_EQ(store->reader()->count(Table::Tasks, "job", std::nullopt),
            static_cast<int64_t>(kThreads * kPerThread));
}

TEST(GroupCommit, GroupsNeverExceedMaxGroupOps) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"), /*max_group_ops=*/10);
  WriterGate gate;
  gate.block(*store);
  Completions done;
  for (int i = 0; i < 35; ++i) {
    store->submit(
        [i](Writer& w) {
          Record r = make_record("p" + std::to_string(i));
          return w.insert(Table::Pools, r);
        },
        done.track());
  }
  gate.release();
  done.wait_for(35);
  store->close();
  const auto stats = store->stats();
  EXPECT_EQ(stats.largest_group, 10U);
  EXPECT_EQ(stats.groups_committed, 1U + 4U);  // the gate, then 10 + 10 + 10 + 5
  EXPECT_EQ(stats.ops_committed, 36U);
}

TEST(GroupCommit, ReadersSeeOnlyCommittedData) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  bool visible_during_op = true;
  bool writer_saw_it = false;
  ASSERT_TRUE(submit_and_wait(*store, [&](Writer& w) {
                Record r = make_record("pending-pool");
                if (!w.insert(Table::Pools, r)) return false;
                writer_saw_it = w.get(Table::Pools, "", "pending-pool").has_value();
                // A separate connection must not see the open transaction.
                visible_during_op =
                    store->reader()->get(Table::Pools, "", "pending-pool").has_value();
                return true;
              }).has_value());
  EXPECT_TRUE(writer_saw_it);
  EXPECT_FALSE(visible_during_op);
  EXPECT_TRUE(store->reader()->get(Table::Pools, "", "pending-pool").has_value());

  // A rolled-back op never becomes visible.
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
                Record r = make_record("discarded");
                w.insert(Table::Pools, r);
                return false;
              }).has_value());
  EXPECT_FALSE(store->reader()->get(Table::Pools, "", "discarded").has_value());
}

TEST(GroupCommit, ReaderKeepsWorkingWhileWritesCommit) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  auto reader = store->reader();  // one connection, reused across commits
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(insert_one(*store, Table::Nodes, make_record("n" + std::to_string(i), "pool")));
    EXPECT_EQ(reader->count(Table::Nodes, "pool", std::nullopt), i);
  }
}

TEST(GroupCommit, CloseDrainsQueuedWritesBeforeReturning) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  WriterGate gate;
  gate.block(*store);
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    store->submit(
        [i](Writer& w) {
          Record r = make_record("j" + std::to_string(i));
          return w.insert(Table::Jobs, r);
        },
        [&](const Status& s) { ok += s.has_value() ? 1 : 0; });
  }
  std::thread closer([&] { store->close(); });
  gate.release();
  closer.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(store->reader()->count(Table::Jobs, "", std::nullopt), 50);  // readers outlive close
}

TEST(GroupCommit, SubmitAfterCloseFailsImmediatelyWithServerBusy) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  store->close();
  store->close();  // idempotent
  bool ran = false;
  std::optional<Status> result;
  store->submit(
      [&](Writer&) {
        ran = true;
        return true;
      },
      [&](const Status& s) { result = s; });
  ASSERT_TRUE(result.has_value());  // called synchronously on this thread
  ASSERT_FALSE(result->has_value());
  EXPECT_EQ(result->error().status, 503);
  EXPECT_EQ(result->error().code, "ServerBusy");
  EXPECT_FALSE(ran);
}

TEST(GroupCommit, DataSurvivesCloseAndReopen) {
  TempDir dir;
  {
    auto store = open_store(dir.file("s.db"));
    ASSERT_TRUE(insert_one(*store, Table::Applications, make_record("App", "", "active", "b")));
  }  // destructor closes
  EXPECT_FALSE(std::filesystem::exists(dir.file("s.db-wal")) &&
               std::filesystem::file_size(dir.file("s.db-wal")) > 0)
      << "close() checkpoints and truncates the WAL";
  auto store = open_store(dir.file("s.db"));
  auto got = store->reader()->get(Table::Applications, "", "app");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "b");
}

}  // namespace
}  // namespace openbatch::store

namespace openbatch::store::testing {
namespace {

TEST(WalCheckpoints, RunOffTheWriterAndKeepTheWalBounded) {
  TempDir dir;
  auto store = open_store(dir.file("s.db"));
  // ~40 MB of task bodies: well past WalCheckpointer::kCheckpointPages of WAL.
  const std::string body(2000, 'x');
  Completions done;
  constexpr int kOps = 200;
  for (int op = 0; op < kOps; ++op) {
    store->submit(
        [&, op](Writer& w) {
          for (int i = 0; i < 100; ++i) {
            Record r = make_record("t" + std::to_string(op) + "-" + std::to_string(i), "job");
            r.body = body;
            w.insert(Table::Tasks, r);
          }
          return true;
        },
        done.track());
    if (op % 20 == 19) done.wait_for(static_cast<std::size_t>(op + 1));  // several groups
  }
  done.wait_for(kOps);
  // The checkpointer thread runs asynchronously: give it a bounded time to report.
  for (int i = 0; i < 200 && store->stats().background_checkpoints == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(store->stats().background_checkpoints, 0u);
  EXPECT_EQ(store->reader()->count(Table::Tasks, "job", std::nullopt), kOps * 100);
  store->close();
  // The final checkpoint emptied the WAL (SQLite removes the file when the last connection closes).
  std::error_code ec;
  const auto wal_size = std::filesystem::file_size(dir.file("s.db-wal"), ec);
  EXPECT_TRUE(ec || wal_size == 0u);
}

}  // namespace
}  // namespace openbatch::store::testing
