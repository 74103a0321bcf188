// plan_round is pure: a hand-built ClusterModel in, dispatches and pending-reason writes out,
// the model untouched (the Dispatcher reserves).
#include "scheduler/dispatch/round_plan.hpp"

#include "scheduler/domain/states.hpp"

#include <gtest/gtest.h>

namespace openbatch::dispatch {
namespace {

using cluster::ClusterModel;
using cluster::JobInfo;
using cluster::NodeInfo;
using cluster::PendingItem;
using cluster::PoolInfo;

const RoundLimits kLimits{2048, "http://batch.test"};

void add_pool(ClusterModel& model, const std::string& id, int slots, bool inter_node = false) {
  PoolInfo pool;
  pool.id = id;
  pool.task_slots_per_node = slots;
  pool.inter_node = inter_node;
  model.pools[id] = pool;
}

NodeInfo& add_node(ClusterModel& model, const std::string& id, const std::string& pool,
                   bool linked = true) {
  NodeInfo& node = model.nodes[id];
  node.id = id;
  node.pool_id = pool;
  node.state = domain::NodeState::Idle;
  node.linked = linked;
  node.ip_address = "10.0.0." + std::to_string(model.nodes.size());
  model.members.add(pool, id);  // a pool's nodes are read through its membership
  return node;
}

JobInfo& add_job(ClusterModel& model, const std::string& id, const std::string& pool) {
  JobInfo& job = model.jobs[id];
  job.id = id;
  job.pool_key = pool;
  model.queue_job(job);
  return job;
}

void add_task(ClusterModel& model, JobInfo& job, const std::string& id, int64_t seq,
              int instances = 1) {
  PendingItem item;
  item.task_id = id;
  item.seq = seq;
  item.instances = instances;
  model.add_pending(job, item);
}

TEST(RoundPlan, PlacesTheHeadOfTheQueueOnFreeSlotsAndLeavesTheModelAlone) {
  ClusterModel model;
  add_pool(model, "p", 1);
  add_node(model, "n1", "p");
  JobInfo& job = add_job(model, "j", "p");
  add_task(model, job, "t1", 1);
  add_task(model, job, "t2", 2);

  RoundPlan plan = plan_round(model, kLimits);

  ASSERT_EQ(plan.dispatches.size(), 1u);
  EXPECT_EQ(plan.dispatches[0].item.task_id, "t1") << "submission order within a job";
  EXPECT_EQ(plan.dispatches[0].node_id, "n1");
  EXPECT_TRUE(plan.dispatches[0].members.empty());
  EXPECT_TRUE(plan.reasons.empty()) << "t2 waits for a busy slot: no reason is written";
  EXPECT_EQ(model.jobs["j"].pending.size(), 2u);
  EXPECT_EQ(model.nodes["n1"].used_slots, 0);
  EXPECT_EQ(model.jobs["j"].running, 0);
}

TEST(RoundPlan, NodesWithoutALinkOrOfAnotherPoolTakeNothing) {
  ClusterModel model;
  add_pool(model, "p", 4);
  add_pool(model, "other", 4);
  add_node(model, "n1", "p", /*linked=*/false);
  add_node(model, "n2", "other");
  JobInfo& job = add_job(model, "j", "p");
  add_task(model, job, "t1", 1);

  EXPECT_TRUE(plan_round(model, kLimits).dispatches.empty());
}

TEST(RoundPlan, APoolBeingDeletedPlacesNothing) {
  ClusterModel model;
  add_pool(model, "p", 1);
  model.pools["p"].state = domain::PoolState::Deleting;
  add_node(model, "n1", "p");
  JobInfo& job = add_job(model, "j", "p");
  add_task(model, job, "t1", 1);

  EXPECT_TRUE(plan_round(model, kLimits).dispatches.empty());
}

TEST(RoundPlan, AGangGetsAllItsNodesWithTheirUrls) {
  ClusterModel model;
  add_pool(model, "p", 1, /*inter_node=*/true);
  add_node(model, "n1", "p");
  add_node(model, "n2", "p");
  JobInfo& job = add_job(model, "j", "p");
  add_task(model, job, "mpi", 1, /*instances=*/2);

  RoundPlan plan = plan_round(model, kLimits);

  ASSERT_EQ(plan.dispatches.size(), 1u);
  const Dispatch& d = plan.dispatches[0];
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[0].node_id, d.node_id) << "the primary's node comes first";
  for (const auto& m : d.members) {
    EXPECT_EQ(m.url, "http://batch.test/pools/p/nodes/" + m.node_id);
    EXPECT_FALSE(m.address.empty());
  }
  EXPECT_TRUE(d.exec_token.empty()) << "minted when the Dispatcher reserves, not in the plan";
}

TEST(RoundPlan, AReasonOtherThanBusySlotsIsWrittenOnlyWhenItChanges) {
  ClusterModel model;
  add_pool(model, "p", 1);
  add_node(model, "n1", "p");
  JobInfo& job = add_job(model, "j", "p");
  PendingItem item;
  item.task_id = "gpu";
  item.seq = 1;
  item.gpu.count = 1;  // n1 has no GPU
  model.add_pending(job, item);

  RoundPlan plan = plan_round(model, kLimits);
  EXPECT_TRUE(plan.dispatches.empty());
  ASSERT_EQ(plan.reasons.size(), 1u);
  EXPECT_EQ(plan.reasons[0].task_id, "gpu");
  EXPECT_FALSE(plan.reasons[0].message.empty());

  model.jobs["j"].pending.begin()->second.pending_reason = plan.reasons[0].message;
  EXPECT_TRUE(plan_round(model, kLimits).reasons.empty());
}

}  // namespace
}  // namespace openbatch::dispatch
