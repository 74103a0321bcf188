// Table-driven tests of place(): fill types, task rules, gangs and reservations, affinity,
// maxParallelTasks, bounded reports and the early stop.
#include "scheduler/placement/place.hpp"

#include "tests/unit/placement/builders.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace openbatch::placement {
namespace {

using testing::in_fifo_order;
using testing::make_node;
using testing::make_pool;
using testing::make_task;

// Node ids of each assignment, in task order.
std::vector<std::vector<std::string>> placed_nodes(const PlacementResult& r) {
  std::vector<std::vector<std::string>> out;
  for (const Assignment& a : r.assignments) out.push_back(a.node_ids);
  return out;
}

const PendingReport* report_for(const PlacementResult& r, const std::string& task_id) {
  for (const PendingReport& p : r.pending) {
    if (p.task_id == task_id) return &p;
  }
  return nullptr;
}

struct FillCase {
  const char* name;
  NodeFillType fill;
  std::vector<NodeSnapshot> nodes;  // pool "p", 4 slots per node
  std::vector<int> task_slots;
  std::vector<std::string> expected;  // node of each task, in order
};

TEST(NodeFill, SpreadAndPackChooseNodesByTheirOwnOrder) {
  NodeSnapshot two_slot_task = make_node("b", "p", 2);
  two_slot_task.running_tasks = 1;  // one task holding 2 slots
  const std::vector<FillCase> cases = {
      {"spread takes the most free node, then the lower id on ties",
       NodeFillType::Spread,
       {make_node("a", "p", 2), make_node("b", "p", 0), make_node("c", "p", 1)},
       {1, 1, 1},
       {"b", "b", "c"}},
      {"spread breaks equal free slots by fewer running tasks",
       NodeFillType::Spread,
       {make_node("a", "p", 2), two_slot_task},
       {1},
       {"b"}},
      {"pack fills the fullest node that fits first",
       NodeFillType::Pack,
       {make_node("a", "p", 2), make_node("b", "p", 0), make_node("c", "p", 1)},
       {1, 1, 1},
       {"a", "a", "c"}},
      {"pack skips nodes too full for the task",
       NodeFillType::Pack,
       {make_node("a", "p", 2), make_node("b", "p", 0), make_node("c", "p", 1)},
       {3, 3},
       {"c", "b"}},
      {"pack breaks equal free slots by node id",
       NodeFillType::Pack,
       {make_node("n2", "p", 1), make_node("n1", "p", 1)},
       {1},
       {"n1"}},
  };
  for (const FillCase& c : cases) {
    SCOPED_TRACE(c.name);
    ClusterSnapshot cluster{{make_pool("p", 4, c.fill)}, c.nodes, {}};
    std::vector<PendingTask> tasks;
    for (std::size_t i = 0; i < c.task_slots.size(); ++i) {
      tasks.push_back(make_task("j", "t" + std::to_string(i), "p", c.task_slots[i]));
    }
    const PlacementResult r = place(cluster, in_fifo_order(tasks));
    std::vector<std::vector<std::string>> expected;
    for (const std::string& n : c.expected) expected.push_back({n});
    EXPECT_EQ(placed_nodes(r), expected);
    EXPECT_TRUE(r.pending.empty());
  }
}

TEST(NodeFilters, OnlyIdleAndRunningNodesWithSchedulingEnabledTakeTasks) {
  const std::vector<std::pair<NodeState, bool>> states = {
      {NodeState::Creating, false},
      {NodeState::Starting, false},
      {NodeState::WaitingForStartTask, false},
      {NodeState::StartTaskFailed, false},
      {NodeState::Idle, true},
      {NodeState::Running, true},
      {NodeState::Offline, false},
      {NodeState::Unusable, false},
      {NodeState::Unknown, false},
      {NodeState::Rebooting, false},
      {NodeState::Reimaging, false},
      {NodeState::LeavingPool, false},
      {NodeState::Preempted, false},
  };
  for (const auto& [state, takes] : states) {
    for (bool enabled : {true, false}) {
      SCOPED_TRACE(std::string(to_string(state)) + (enabled ? " enabled" : " disabled"));
      NodeSnapshot node = make_node("n", "p", 0, state);
      node.scheduling_enabled = enabled;
      ClusterSnapshot cluster{{make_pool("p", 2)}, {node}, {}};
      const std::vector<PendingTask> tasks{make_task("j", "t", "p")};
      const PlacementResult r = place(cluster, tasks);
      if (takes && enabled) {
        EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"n"}}));
        continue;
      }
      // A pool with no node that takes tasks has no free slot: nothing is examined.
      EXPECT_TRUE(r.assignments.empty());
      EXPECT_EQ(r.tasks_examined, 0u);
    }
  }
}

TEST(NodeFilters, UnschedulableNodesAreListedWithTheirState) {
  NodeSnapshot disabled = make_node("d", "p");
  disabled.scheduling_enabled = false;
  ClusterSnapshot cluster{
      {make_pool("p"), make_pool("other")},
      {make_node("f", "p", 0, NodeState::StartTaskFailed), disabled, make_node("free", "other")},
      {}};
  const std::vector<PendingTask> tasks{make_task("j", "t", "p")};
  const PlacementResult r = place(cluster, tasks);
  ASSERT_EQ(r.pending.size(), 1u);
  EXPECT_EQ(r.pending[0].reason, reasons::no_schedulable_nodes(2));
  EXPECT_EQ(
      r.pending[0].nodes,
      (std::vector<NodeReason>{{"d", reasons::node_scheduling_disabled()},
                               {"f", reasons::node_not_schedulable(NodeState::StartTaskFailed)}}));
  EXPECT_EQ(r.pending[0].unlisted_nodes, 0u);
}

struct RuleCase {
  const char* name;
  PoolSnapshot pool;
  int nodes;
  PendingTask task;
  Reason expected;
};

TEST(TaskRules, EachRuleNamesWhyTheTaskWaits) {
  const std::vector<RuleCase> cases = {
      {"unknown pool", make_pool("p"), 1, make_task("j", "t", "nope"),
       reasons::pool_not_found("nope")},
      {"more slots than a node has", make_pool("p", 2), 1, make_task("j", "t", "p", 3),
       reasons::required_slots_exceed_node_slots(3, 2)},
      {"gang without inter-node communication", make_pool("p"), 3, make_task("j", "t", "p", 1, 2),
       reasons::inter_node_communication_disabled("p")},
      {"gang in a pool with several slots per node", make_pool("p", 2, NodeFillType::Spread, true),
       3, make_task("j", "t", "p", 1, 2), reasons::multi_instance_needs_single_slot_nodes(2)},
      {"pool without nodes", make_pool("p"), 0, make_task("j", "t", "p"), reasons::no_nodes("p")},
      {"gang wider than the pool", make_pool("p", 1, NodeFillType::Spread, true), 2,
       make_task("j", "t", "p", 1, 3), reasons::not_enough_nodes_for_gang(3, 2, 2)},
  };
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.name);
    // A second pool with room keeps the round going whatever happens in "p".
    ClusterSnapshot cluster{{c.pool, make_pool("spare")}, {make_node("s", "spare")}, {}};
    for (int i = 0; i < c.nodes; ++i)
      cluster.nodes.push_back(make_node("n" + std::to_string(i), "p"));
    const std::vector<PendingTask> tasks{c.task};
    const PlacementResult r = place(cluster, tasks);
    ASSERT_EQ(r.pending.size(), 1u);
    EXPECT_EQ(r.pending[0].reason, c.expected);
    EXPECT_TRUE(r.assignments.empty());
    EXPECT_TRUE(r.reservations.empty()) << "a task that cannot fit the pool reserves nothing";
  }
}

TEST(GangPlacement, TakesDistinctNodesWithTheAffinityNodeAsPrimary) {
  ClusterSnapshot cluster{
      {make_pool("p", 1, NodeFillType::Spread, true)},
      {make_node("a", "p"), make_node("b", "p"), make_node("c", "p"), make_node("d", "p")},
      {}};
  PendingTask gang = make_task("j", "mpi", "p", 1, 3);
  gang.affinity_id = "tvm:c";  // affinity ids match case-insensitively
  const std::vector<PendingTask> tasks{gang};
  const PlacementResult r = place(cluster, tasks);
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"c", "a", "b"}}));
}

TEST(GangPlacement, WaitsUntilAllNodesFitAndHoldsTheFreeOnes) {
  ClusterSnapshot cluster{{make_pool("p", 1, NodeFillType::Spread, true), make_pool("q")},
                          {make_node("a", "p", 1), make_node("b", "p"), make_node("c", "p"),
                           make_node("d", "p", 1), make_node("q1", "q")},
                          {}};
  PendingTask urgent = make_task("hi", "gang", "p", 1, 3);
  urgent.priority = 10;
  const std::vector<PendingTask> tasks = {urgent, make_task("lo", "narrow", "p"),
                                          make_task("lo", "elsewhere", "q")};
  const PlacementResult r = place(cluster, tasks);
  ASSERT_EQ(r.reservations.size(), 1u);
  EXPECT_EQ(r.reservations[0].node_ids, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"q1"}}));
  const PendingReport* gang_report = report_for(r, "gang");
  ASSERT_NE(gang_report, nullptr);
  EXPECT_EQ(gang_report->reason, reasons::not_enough_nodes_for_gang(3, 2, 4));
  EXPECT_EQ(gang_report->nodes,
            (std::vector<NodeReason>{{"a", reasons::insufficient_slots(1, 0)},
                                     {"d", reasons::insufficient_slots(1, 0)}}));
  const PendingReport* narrow = report_for(r, "narrow");
  ASSERT_NE(narrow, nullptr);
  EXPECT_EQ(narrow->reason, reasons::reserved_for_gang("hi", "gang"));
}

TEST(GangPlacement, WithoutReservationNarrowTasksTakeTheFreeNodes) {
  ClusterSnapshot cluster{{make_pool("p", 1, NodeFillType::Spread, true)},
                          {make_node("a", "p", 1), make_node("b", "p"), make_node("c", "p")},
                          {}};
  const std::vector<PendingTask> tasks =
      in_fifo_order({make_task("j", "gang", "p", 1, 3), make_task("j", "narrow", "p")});
  PlacementPolicy policy;
  policy.reserve_for_gangs = false;
  const PlacementResult r = place(cluster, tasks, policy);
  EXPECT_TRUE(r.reservations.empty());
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"b"}}));
}

TEST(GangPlacement, ASecondGangBehindAHoldIsToldWhoHoldsTheNodes) {
  // Pool "q" keeps a free slot so that the round goes on after "p" is held.
  ClusterSnapshot cluster{
      {make_pool("p", 1, NodeFillType::Pack, true), make_pool("q")},
      {make_node("a", "p", 1), make_node("b", "p"), make_node("c", "p"), make_node("q1", "q")},
      {}};
  const std::vector<PendingTask> tasks =
      in_fifo_order({make_task("j", "wide", "p", 1, 3), make_task("j", "pair", "p", 1, 2)});
  const PlacementResult r = place(cluster, tasks);
  ASSERT_EQ(r.pending.size(), 2u);
  EXPECT_EQ(r.pending[1].reason, reasons::reserved_for_gang("j", "wide"));
  EXPECT_EQ(r.tasks_examined, 2u);
}

TEST(Affinity, PrefersTheAffinityNodeOnlyWhenItFits) {
  ClusterSnapshot cluster{{make_pool("p", 2)},
                          {make_node("a", "p"), make_node("b", "p", 1), make_node("c", "p", 2)},
                          {}};
  PendingTask to_b = make_task("j", "t1", "p");
  to_b.affinity_id = "TVM:b";
  PendingTask to_full = make_task("j", "t2", "p");
  to_full.affinity_id = "TVM:c";
  PendingTask to_unknown = make_task("j", "t3", "p");
  to_unknown.affinity_id = "TVM:zzz";
  const PlacementResult r = place(cluster, in_fifo_order({to_b, to_full, to_unknown}));
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"b"}, {"a"}, {"a"}}));
}

TEST(MaxParallelTasks, CountsRunningAndNewlyPlacedTasksOfTheJob) {
  ClusterSnapshot cluster{{make_pool("p", 8)},
                          {make_node("n", "p")},
                          {JobSnapshot{"capped", 3, 1}, JobSnapshot{"free", -1, 50}}};
  const std::vector<PendingTask> tasks = in_fifo_order(
      {make_task("capped", "t1", "p"), make_task("free", "f1", "p"), make_task("capped", "t2", "p"),
       make_task("CAPPED", "t3", "p"), make_task("free", "f2", "p")});
  const PlacementResult r = place(cluster, tasks);
  std::vector<std::string> placed;
  for (const Assignment& a : r.assignments) placed.push_back(a.task_id);
  EXPECT_EQ(placed, (std::vector<std::string>{"t1", "f1", "t2", "f2"}));
  ASSERT_EQ(r.pending.size(), 1u);
  EXPECT_EQ(r.pending[0].reason, reasons::job_max_parallel_tasks_reached("CAPPED", 3, 3));
  EXPECT_TRUE(r.pending[0].nodes.empty());
}

TEST(PendingReport, PerNodeDetailIsCappedAndCounted) {
  ClusterSnapshot cluster{{make_pool("p", 2), make_pool("spare")}, {make_node("s", "spare")}, {}};
  for (int i = 0; i < 40; ++i) {
    cluster.nodes.push_back(make_node("n" + std::to_string(100 + i), "p", i < 20 ? 1 : 2));
  }
  PlacementPolicy policy;
  policy.max_node_reasons = 16;
  policy.max_detailed_pending = 1;
  const std::vector<PendingTask> tasks =
      in_fifo_order({make_task("j", "big", "p", 2), make_task("j", "big2", "p", 2)});
  const PlacementResult r = place(cluster, tasks, policy);
  ASSERT_EQ(r.pending.size(), 2u);
  EXPECT_EQ(r.pending[0].reason, reasons::insufficient_slots(2, 1, "p"));
  ASSERT_EQ(r.pending[0].nodes.size(), 16u);
  EXPECT_EQ(r.pending[0].nodes.front(), (NodeReason{"n100", reasons::insufficient_slots(2, 1)}));
  EXPECT_EQ(r.pending[0].unlisted_nodes, 24u);
  EXPECT_TRUE(r.pending[1].nodes.empty()) << "only max_detailed_pending reports carry detail";
  EXPECT_EQ(r.pending[1].unlisted_nodes, 40u);
}

TEST(EarlyStop, StopsOnceNoPoolHasAFreeSlot) {
  ClusterSnapshot cluster{{make_pool("p", 2), make_pool("q")},
                          {make_node("a", "p", 1), make_node("b", "p", 2), make_node("c", "q")},
                          {}};
  const std::vector<PendingTask> tasks = in_fifo_order(
      {make_task("j", "t1", "p"), make_task("j", "t2", "p"), make_task("j", "t3", "q"),
       make_task("j", "t4", "nope"), make_task("j", "t5", "q")});
  const PlacementResult r = place(cluster, tasks);
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"a"}, {"c"}}));
  ASSERT_EQ(r.pending.size(), 1u);
  EXPECT_EQ(r.pending[0].reason, reasons::insufficient_slots(1, 0, "p"));
  EXPECT_EQ(r.tasks_examined, 3u);
}

TEST(GpuFilters, RequireInstalledGpusOfTheSkuAndANewEnoughDriver) {
  NodeSnapshot old_driver = make_node("a", "p");
  old_driver.gpus = {{"GPU-1", "NVIDIA A100"}, {"GPU-2", "NVIDIA A100"}};
  old_driver.cuda_driver_version = 11080;
  NodeSnapshot one_gpu = make_node("b", "p");
  one_gpu.gpus = {{"GPU-3", "NVIDIA A100"}};
  one_gpu.cuda_driver_version = 12020;
  NodeSnapshot good = make_node("c", "p");
  good.gpus = {{"GPU-4", "NVIDIA A100"}, {"GPU-5", "nvidia a100"}};
  good.cuda_driver_version = 12020;
  ClusterSnapshot cluster{{make_pool("p", 4)}, {old_driver, one_gpu, good}, {}};
  PendingTask task = make_task("j", "t", "p");
  task.gpu = GpuRequest{2, "NVIDIA A100", 12000};
  PendingTask h100 = make_task("j", "h", "p");
  h100.gpu = GpuRequest{1, "NVIDIA H100", 0};
  const PlacementResult r = place(cluster, in_fifo_order({task, h100}));
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"c"}}));
  ASSERT_EQ(r.pending.size(), 1u);
  // The summary is the reason of the best node that had the slots (spread: "a" after "c" took one).
  EXPECT_EQ(r.pending[0].reason, reasons::insufficient_gpus(1, 0, "NVIDIA H100"));
  EXPECT_EQ(r.pending[0].nodes.size(), 3u);
}

TEST(GpuFilters, CudaVersionIsCheckedAfterTheGpuCount) {
  NodeSnapshot node = make_node("a", "p");
  node.gpus = {{"GPU-1", "T4"}};
  node.cuda_driver_version = 11040;
  ClusterSnapshot cluster{{make_pool("p")}, {node}, {}};
  PendingTask task = make_task("j", "t", "p");
  task.gpu = GpuRequest{1, "", 12000};
  const std::vector<PendingTask> tasks{task};
  const PlacementResult r = place(cluster, tasks);
  ASSERT_EQ(r.pending.size(), 1u);
  EXPECT_EQ(r.pending[0].reason, reasons::cuda_version_too_old(12000, 11040));
}

TEST(Snapshot, DuplicateNodeIdsAreUsedOnceAndOrphanNodesIgnored) {
  ClusterSnapshot cluster{
      {make_pool("p")}, {make_node("a", "p"), make_node("a", "p"), make_node("x", "gone")}, {}};
  const std::vector<PendingTask> tasks =
      in_fifo_order({make_task("j", "t1", "p"), make_task("j", "t2", "p")});
  const PlacementResult r = place(cluster, tasks);
  EXPECT_EQ(placed_nodes(r), (std::vector<std::vector<std::string>>{{"a"}}));
  EXPECT_EQ(r.tasks_examined, 1u);
}

TEST(Snapshot, ResultDoesNotDependOnTheOrderNodesAreListedIn) {
  ClusterSnapshot cluster{
      {make_pool("p", 2, NodeFillType::Spread)},
      {make_node("n1", "p"), make_node("n2", "p"), make_node("n3", "p", 1), make_node("n4", "p")},
      {}};
  const std::vector<PendingTask> tasks = in_fifo_order(
      {make_task("j", "a", "p"), make_task("j", "b", "p", 2), make_task("j", "c", "p"),
       make_task("j", "d", "p", 2), make_task("j", "e", "p")});
  const PlacementResult first = place(cluster, tasks);
  std::reverse(cluster.nodes.begin(), cluster.nodes.end());
  EXPECT_EQ(place(cluster, tasks), first);
}

}  // namespace
}  // namespace openbatch::placement
