// Reasons and snapshot spellings: the names fixtures and API replies use, and the sentences
// "why is my task pending" shows.
#include "scheduler/placement/reason.hpp"

#include "scheduler/placement/snapshot.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace openbatch::placement {
namespace {

TEST(Reasons, DescribeSaysWhatIsMissing) {
  const std::vector<std::pair<Reason, std::string>> cases = {
      {reasons::pool_not_found("gpu"), "pool 'gpu' does not exist"},
      {reasons::no_nodes("gpu"), "pool 'gpu' has no compute nodes"},
      {reasons::no_schedulable_nodes(3),
       "none of the pool's 3 nodes takes tasks (a node must be idle or running with scheduling "
       "enabled)"},
      {reasons::job_max_parallel_tasks_reached("render", 4, 4),
       "job 'render' already runs 4 tasks; its maxParallelTasks is 4"},
      {reasons::required_slots_exceed_node_slots(8, 4),
       "task needs 8 slots but the pool's taskSlotsPerNode is 4; it can never run there"},
      {reasons::inter_node_communication_disabled("mpi"),
       "multi-instance task needs enableInterNodeCommunication on pool 'mpi'"},
      {reasons::multi_instance_needs_single_slot_nodes(4),
       "multi-instance task needs taskSlotsPerNode 1; the pool has 4"},
      {reasons::not_enough_nodes_for_gang(4, 2, 6),
       "multi-instance task needs 4 free nodes at once; 2 of 6 schedulable nodes are free"},
      {reasons::not_enough_nodes_for_gang(8, 2, 3),
       "multi-instance task needs 8 nodes at once; the pool has only 3 schedulable nodes"},
      {reasons::reserved_for_gang("sim", "mpi-1"),
       "held for multi-instance task 'sim/mpi-1', which is ahead in the queue"},
      {reasons::insufficient_slots(4, 2), "needs 4 free task slots, 2 free"},
      {reasons::insufficient_slots(1, 0), "needs 1 free task slot, 0 free"},
      {reasons::not_enough_nodes_for_gang(2, 1, 1),
       "multi-instance task needs 2 nodes at once; the pool has only 1 schedulable node"},
      {reasons::not_enough_nodes_for_gang(3, 1, 5),
       "multi-instance task needs 3 free nodes at once; 1 of 5 schedulable nodes is free"},
      {reasons::insufficient_slots(4, 2, "p"),
       "needs 4 free task slots, 2 free on the best node of pool 'p'"},
      {reasons::node_not_schedulable(NodeState::StartTaskFailed),
       "node is starttaskfailed; only idle and running nodes take tasks"},
      {reasons::node_scheduling_disabled(), "scheduling is disabled on the node"},
      {reasons::insufficient_gpus(2, 1, "NVIDIA A100"),
       "needs 2 GPUs of SKU 'NVIDIA A100', node has 1"},
      {reasons::insufficient_gpus(1, 0, ""), "needs 1 GPU, node has 0"},
      {reasons::cuda_version_too_old(12020, 11080),
       "needs CUDA 12.2, node driver supports CUDA 11.8"},
      {reasons::cuda_version_too_old(12000, 0), "needs CUDA 12.0, node has no NVIDIA driver"},
  };
  for (const auto& [reason, text] : cases) {
    EXPECT_EQ(describe(reason), text) << to_string(reason.code);
  }
}

TEST(Reasons, CodeNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(ReasonCode::CudaVersionTooOld); ++i) {
    const auto code = static_cast<ReasonCode>(i);
    EXPECT_EQ(parse_reason_code(to_string(code)), code) << i;
  }
  EXPECT_FALSE(parse_reason_code("insufficientslots"));
}

TEST(Reasons, OnlyPoolConfigurationMismatchesArePermanent) {
  EXPECT_TRUE(is_permanent(reasons::required_slots_exceed_node_slots(2, 1)));
  EXPECT_TRUE(is_permanent(reasons::inter_node_communication_disabled("p")));
  EXPECT_TRUE(is_permanent(reasons::multi_instance_needs_single_slot_nodes(2)));
  EXPECT_FALSE(is_permanent(reasons::pool_not_found("p")));
  EXPECT_FALSE(is_permanent(reasons::insufficient_slots(2, 1)));
  EXPECT_FALSE(is_permanent(reasons::not_enough_nodes_for_gang(4, 1, 2)));
}

TEST(Snapshot, ParsesAzureSpellingsCaseInsensitively) {
  EXPECT_EQ(parse_node_state("waitingforstarttask"), NodeState::WaitingForStartTask);
  EXPECT_EQ(parse_node_state("LeavingPool"), NodeState::LeavingPool);
  EXPECT_FALSE(parse_node_state("busy"));
  for (int i = 0; i <= static_cast<int>(NodeState::Preempted); ++i) {
    const auto state = static_cast<NodeState>(i);
    EXPECT_EQ(parse_node_state(to_string(state)), state) << i;
  }
  EXPECT_EQ(parse_node_fill_type("Pack"), NodeFillType::Pack);
  EXPECT_EQ(parse_node_fill_type("spread"), NodeFillType::Spread);
  EXPECT_FALSE(parse_node_fill_type("scatter"));
}

TEST(Snapshot, PlacementOrderIsPriorityDescendingThenSeq) {
  PendingTask high;
  high.priority = 5;
  high.seq = 9;
  PendingTask early;
  early.seq = 1;
  PendingTask late;
  late.seq = 2;
  EXPECT_TRUE(placement_order(high, early));
  EXPECT_TRUE(placement_order(early, late));
  EXPECT_FALSE(placement_order(late, early));
  EXPECT_FALSE(placement_order(early, early));
}

}  // namespace
}  // namespace openbatch::placement
