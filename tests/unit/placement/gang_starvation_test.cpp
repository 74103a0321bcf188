// A wide multi-instance task must not be starved by a stream of narrow tasks that arrive after
// it. Round by round, as the dispatcher runs place(): narrow tasks finish and free their
// nodes, new narrow tasks arrive, and whatever place() assigns starts. With gang reservation
// the wide task holds each node that frees up and starts as soon as the last busy one is free;
// without it (the control) every freed node goes to a narrow task and the wide task never
// starts while narrow ones keep coming.
#include "scheduler/placement/place.hpp"
#include "tests/unit/placement/builders.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::placement {
namespace {

using testing::make_node;
using testing::make_pool;
using testing::make_task;

constexpr int kNodes = 4;
constexpr int kNarrowTasks = 500;
constexpr int kArrivalsPerRound = 5;
constexpr int kNarrowRounds = 3;  // a narrow task runs this many rounds

struct Outcome {
  std::optional<int> wide_started_round;
  int narrow_started_before_wide = 0;
  int narrow_started = 0;
  int max_busy_nodes = 0;
};

Outcome simulate(bool reserve_for_gangs) {
  const PoolSnapshot pool = make_pool("p", 1, NodeFillType::Spread, true);
  std::map<std::string, int> busy_until;  // node -> round its task ends
  // At the start, every node but one runs a narrow task ending at staggered rounds.
  for (int n = 0; n < kNodes - 1; ++n) busy_until["n" + std::to_string(n)] = n + 2;

  std::vector<PendingTask> queue;
  PendingTask wide = make_task("j", "wide", "p", 1, kNodes);
  wide.seq = 1;
  queue.push_back(wide);
  int arrived = 0;
  Outcome out;
  PlacementPolicy policy;
  policy.reserve_for_gangs = reserve_for_gangs;
  for (int round = 0; round < 400 && (arrived < kNarrowTasks || !queue.empty()); ++round) {
    for (auto it = busy_until.begin(); it != busy_until.end();) {
      it = it->second <= round ? busy_until.erase(it) : std::next(it);
    }
    for (int i = 0; i < kArrivalsPerRound && arrived < kNarrowTasks; ++i, ++arrived) {
      PendingTask narrow = make_task("j", "narrow" + std::to_string(arrived), "p");
      narrow.seq = 2 + arrived;
      queue.push_back(narrow);
    }
    ClusterSnapshot cluster;
    cluster.pools.push_back(pool);
    for (int n = 0; n < kNodes; ++n) {
      const std::string id = "n" + std::to_string(n);
      cluster.nodes.push_back(make_node(id, "p", busy_until.contains(id) ? 1 : 0));
    }
    const PlacementResult r = place(cluster, queue, policy);
    std::vector<bool> started(queue.size(), false);
    for (const Assignment& a : r.assignments) {
      started[a.task_index] = true;
      for (const auto& node : a.node_ids) {
        EXPECT_FALSE(busy_until.contains(node))
            << "round " << round << ": " << node << " oversubscribed";
        busy_until[node] = round + kNarrowRounds;
      }
      if (a.task_id == "wide") {
        EXPECT_EQ(a.node_ids.size(), static_cast<std::size_t>(kNodes));
        out.wide_started_round = round;
      } else {
        ++out.narrow_started;
        if (!out.wide_started_round) ++out.narrow_started_before_wide;
      }
    }
    out.max_busy_nodes = std::max(out.max_busy_nodes, static_cast<int>(busy_until.size()));
    std::vector<PendingTask> left;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      if (!started[i]) left.push_back(queue[i]);
    }
    queue = std::move(left);
  }
  return out;
}

TEST(GangStarvation, AWideTaskStartsOnceTheNodesBusyBeforeItAreFreeDespite500NarrowOnes) {
  const Outcome out = simulate(/*reserve_for_gangs=*/true);
  ASSERT_TRUE(out.wide_started_round.has_value());
  // The last node busy before it arrived (n2, busy until round 2 + 2) frees up in round 4.
  EXPECT_EQ(*out.wide_started_round, kNodes);
  EXPECT_EQ(out.narrow_started_before_wide, 0);
  EXPECT_EQ(out.narrow_started, kNarrowTasks);  // and the narrow ones all ran afterwards
  EXPECT_LE(out.max_busy_nodes, kNodes);
}

TEST(GangStarvation, WithoutReservationTheSameStreamStarvesIt) {
  const Outcome out = simulate(/*reserve_for_gangs=*/false);
  // Every freed node went to a narrow task while they kept arriving.
  EXPECT_GT(out.narrow_started_before_wide, kNarrowTasks / 2);
  EXPECT_EQ(out.narrow_started, kNarrowTasks);
}

}  // namespace
}  // namespace openbatch::placement
