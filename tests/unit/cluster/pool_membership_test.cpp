// PoolMembership: per-pool member counts kept by add/remove, and the dirty set of pools.
#include "scheduler/cluster/pool_membership.hpp"

#include <gtest/gtest.h>

namespace openbatch::cluster {
namespace {

TEST(PoolMembership, CountsFollowAddsAndRemovesPerPool) {
  PoolMembership m;
  EXPECT_EQ(m.count("p"), 0u);
  m.add("p", "n1");
  m.add("p", "n2");
  m.add("q", "n3");
  EXPECT_EQ(m.count("p"), 2u);
  EXPECT_EQ(m.count("q"), 1u);
  m.remove("p", "n1");
  EXPECT_EQ(m.count("p"), 1u);
  EXPECT_EQ(m.members("p"), (std::set<std::string>{"n2"}));
  EXPECT_TRUE(m.members("nope").empty());
}

TEST(PoolMembership, AddAndRemoveAreIdempotent) {
  PoolMembership m;
  m.add("p", "n1");
  m.add("p", "n1");
  EXPECT_EQ(m.count("p"), 1u);
  m.remove("p", "n1");
  m.remove("p", "n1");
  m.remove("other", "n1");
  EXPECT_EQ(m.count("p"), 0u);
  EXPECT_TRUE(m.members("p").empty());
}

TEST(PoolMembership, DirtyPoolsAreTakenOnceInKeyOrder) {
  PoolMembership m;
  EXPECT_TRUE(m.mark_dirty("b"));
  EXPECT_TRUE(m.mark_dirty("a"));
  EXPECT_FALSE(m.mark_dirty("b"));  // already waiting: one reconcile for the burst
  EXPECT_EQ(m.take_dirty(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(m.take_dirty().empty());
  EXPECT_TRUE(m.mark_dirty("a"));
}

TEST(PoolMembership, TenThousandMembersCountWithoutAScan) {
  PoolMembership m;
  for (int i = 0; i < 10000; ++i) m.add("big", "n" + std::to_string(i));
  m.add("small", "x");
  EXPECT_EQ(m.count("big"), 10000u);
  EXPECT_EQ(m.count("small"), 1u);
  m.remove("big", "n42");
  EXPECT_EQ(m.count("big"), 9999u);
  EXPECT_EQ(m.members("big").count("n42"), 0u);
}

}  // namespace
}  // namespace openbatch::cluster
