// Performance-shaped tests: large queues on large pools. They assert on outcomes and on the
// tasks_examined counter, never on time; a place() that scanned every node per task or every
// task per placement would make them crawl rather than fail.
#include "scheduler/placement/place.hpp"
#include "tests/unit/placement/builders.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace openbatch::placement {
namespace {

using testing::make_node;
using testing::make_pool;
using testing::make_task;

std::vector<PendingTask> queue(std::size_t count, const std::string& pool_id, int slots = 1) {
  std::vector<PendingTask> tasks;
  tasks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    tasks.push_back(make_task("job", "t" + std::to_string(i), pool_id, slots));
    tasks.back().seq = static_cast<int64_t>(i);
  }
  return tasks;
}

ClusterSnapshot pool_of(std::size_t nodes, int slots, int used, NodeFillType fill,
                        bool inter_node = false) {
  ClusterSnapshot cluster{{make_pool("big", slots, fill, inter_node)}, {}, {}};
  cluster.nodes.reserve(nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    cluster.nodes.push_back(make_node("node-" + std::to_string(i), "big", used));
  }
  return cluster;
}

TEST(PlacementScale, PlacesAHundredThousandTasksOnAThousandNodes) {
  const std::vector<PendingTask> tasks = queue(100'000, "big");
  for (NodeFillType fill : {NodeFillType::Spread, NodeFillType::Pack}) {
    SCOPED_TRACE(std::string(to_string(fill)));
    const PlacementResult r = place(pool_of(1000, 128, 0, fill), tasks);
    ASSERT_EQ(r.assignments.size(), tasks.size());
    EXPECT_TRUE(r.pending.empty());
    std::unordered_map<std::string, int> per_node;
    for (const Assignment& a : r.assignments) ++per_node[a.node_ids.front()];
    for (const auto& [node, count] : per_node) EXPECT_LE(count, 128) << node;
    // Spread uses every node evenly; pack fills whole nodes first.
    EXPECT_EQ(per_node.size(), fill == NodeFillType::Spread ? 1000u : 782u);
  }
}

TEST(PlacementScale, AMillionTasksMeetingAFullClusterAreNotExamined) {
  const std::vector<PendingTask> tasks = queue(1'000'000, "big");
  ClusterSnapshot cluster = pool_of(1000, 4, 4, NodeFillType::Spread);
  EXPECT_EQ(place(cluster, tasks).tasks_examined, 0u);

  for (std::size_t i = 0; i < 10; ++i) cluster.nodes[i * 97].used_slots = 3;
  const PlacementResult r = place(cluster, tasks);
  EXPECT_EQ(r.assignments.size(), 10u);
  EXPECT_TRUE(r.pending.empty());
  EXPECT_EQ(r.tasks_examined, 10u);
}

TEST(PlacementScale, AGangHoldingTheLastFreeNodeEndsTheRound) {
  ClusterSnapshot cluster = pool_of(1000, 1, 1, NodeFillType::Spread, true);
  cluster.nodes[500].used_slots = 0;
  std::vector<PendingTask> tasks = queue(1'000'000, "big");
  tasks.front().number_of_instances = 2;
  const PlacementResult r = place(cluster, tasks);
  ASSERT_EQ(r.reservations.size(), 1u);
  EXPECT_EQ(r.reservations[0].node_ids, (std::vector<std::string>{"node-500"}));
  EXPECT_EQ(r.tasks_examined, 1u);
}

TEST(PlacementScale, TasksThatDoNotFitCostNoScanOfTheirPool) {
  // 10,000 nodes with one free slot each and 100,000 tasks needing two: every task is examined
  // and left pending, each with the summary, and only the first max_detailed_pending with
  // per-node detail, capped at max_node_reasons.
  const std::vector<PendingTask> tasks = queue(100'000, "big", 2);
  const PlacementResult r = place(pool_of(10'000, 2, 1, NodeFillType::Pack), tasks);
  ASSERT_EQ(r.pending.size(), tasks.size());
  EXPECT_EQ(r.tasks_examined, tasks.size());
  const PlacementPolicy defaults;
  std::size_t detailed = 0;
  for (const PendingReport& p : r.pending) {
    EXPECT_EQ(p.reason, reasons::insufficient_slots(2, 1, "big"));
    EXPECT_EQ(p.nodes.size() + p.unlisted_nodes, 10'000u);
    if (!p.nodes.empty()) {
      ++detailed;
      EXPECT_EQ(p.nodes.size(), defaults.max_node_reasons);
    }
  }
  EXPECT_EQ(detailed, defaults.max_detailed_pending);
}

}  // namespace
}  // namespace openbatch::placement
