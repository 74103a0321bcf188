// The change feed: committed changes of a group reach the observer once, in commit order,
// before the group's done callbacks; changes of rolled-back ops and failed groups never do.
#include "tests/unit/store/store_test_support.hpp"

#include <mutex>

namespace openbatch::store::testing {
namespace {

struct Recorder {
  std::mutex mu;
  std::vector<Change> changes;
  ChangeObserver observer() {
    return [this](std::vector<Change>&& batch) {
      std::lock_guard lock(mu);
      for (auto& c : batch) changes.push_back(std::move(c));
    };
  }
};

TEST(ChangeFeed, DeliversInsertsUpdatesAndErasesOfKeptOps) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  Recorder recorder;
  store->set_change_observer(recorder.observer());
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    Record a = make_record("a", "job", "active", "{\"v\":1}");
    Record b = make_record("b", "job", "active", "{\"v\":1}");
    return w.insert(Table::Tasks, a) && w.insert(Table::Tasks, b);
  }));
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    return w.update(Table::Tasks, make_record("a", "job", "running", "{\"v\":2}")) &&
           w.erase(Table::Tasks, "job", "b");
  }));
  std::lock_guard lock(recorder.mu);
  ASSERT_EQ(recorder.changes.size(), 4u);
  EXPECT_EQ(recorder.changes[0].kind, Change::Kind::Upsert);
  EXPECT_EQ(recorder.changes[0].record.id, "a");
  EXPECT_GT(recorder.changes[0].record.seq, 0) << "an insert carries its seq";
  EXPECT_EQ(recorder.changes[2].record.state, "running");
  EXPECT_EQ(recorder.changes[2].record.body, "{\"v\":2}");
  EXPECT_EQ(recorder.changes[3].kind, Change::Kind::Erase);
  EXPECT_EQ(recorder.changes[3].record.id, "b");
  EXPECT_EQ(recorder.changes[3].record.parent, "job");
}

TEST(ChangeFeed, RolledBackOpsAndNoOpWritesAreNotDelivered) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  Recorder recorder;
  store->set_change_observer(recorder.observer());
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    Record a = make_record("a", "", "active");
    w.insert(Table::Pools, a);
    return false;  // rolled back
  }));
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    Record dup = make_record("x");
    w.insert(Table::Pools, dup);
    Record again = make_record("X");  // same id, other case: not inserted
    w.insert(Table::Pools, again);
    w.update(Table::Pools, make_record("missing"));  // nothing to update
    w.erase(Table::Pools, "", "missing");
    return true;
  }));
  std::lock_guard lock(recorder.mu);
  ASSERT_EQ(recorder.changes.size(), 1u);
  EXPECT_EQ(recorder.changes[0].record.id, "x");
}

TEST(ChangeFeed, EraseChildrenIsOneChangeNamingTheParent) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  ASSERT_TRUE(submit_and_wait(*store, [](Writer& w) {
    for (int i = 0; i < 5; ++i) {
      Record r = make_record("t" + std::to_string(i), "job");
      if (!w.insert(Table::Tasks, r)) return false;
    }
    return true;
  }));
  Recorder recorder;
  store->set_change_observer(recorder.observer());
  ASSERT_TRUE(submit_and_wait(
      *store, [](Writer& w) { return w.erase_children(Table::Tasks, "job", 100) == 5; }));
  std::lock_guard lock(recorder.mu);
  ASSERT_EQ(recorder.changes.size(), 1u);
  EXPECT_EQ(recorder.changes[0].kind, Change::Kind::EraseChildren);
  EXPECT_EQ(recorder.changes[0].record.parent, "job");
}

TEST(ChangeFeed, ObserverRunsBeforeTheDoneCallbacks) {
  TempDir dir;
  auto store = open_store((dir.path() / "db").string());
  std::atomic<bool> observed{false};
  std::atomic<bool> observed_before_done{false};
  store->set_change_observer([&](std::vector<Change>&&) { observed = true; });
  std::promise<void> done;
  store->submit(
      [](Writer& w) {
        Record r = make_record("p");
        return w.insert(Table::Pools, r);
      },
      [&](const Status&) {
        observed_before_done = observed.load();
        done.set_value();
      });
  done.get_future().wait();
  EXPECT_TRUE(observed_before_done);
}

}  // namespace
}  // namespace openbatch::store::testing
