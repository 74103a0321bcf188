// ClusterModel's bookkeeping: pending tasks in and out of their pool's queue, attempts and
// gangs forgotten with their slots and counts.
#include "scheduler/cluster/cluster_model.hpp"

#include "scheduler/cluster/entity_facts.hpp"

#include <gtest/gtest.h>

namespace openbatch::cluster {
namespace {

JobInfo& add_job(ClusterModel& model, const std::string& id, int priority = 0) {
  JobInfo& job = model.jobs[lower(id)];  // the model's keys are lowercased
  job.id = id;
  job.pool_key = "p";
  job.priority = priority;
  return job;
}

PendingItem item(const std::string& task_id, int64_t seq) {
  PendingItem i;
  i.task_id = task_id;
  i.seq = seq;
  return i;
}

TEST(ClusterModel, PendingTasksJoinTheQueueOnlyWhileTheirJobIsQueued) {
  ClusterModel model;
  JobInfo& job = add_job(model, "j");
  model.add_pending(job, item("t1", 1));
  EXPECT_TRUE(model.queues["p"].empty()) << "the job is not queued yet";
  model.queue_job(job);
  EXPECT_EQ(model.queues["p"].size(), 1u);
  model.add_pending(job, item("t2", 2));
  model.add_pending(job, item("T2", 2));  // the same task, another spelling: ignored
  EXPECT_EQ(model.queues["p"].size(), 2u);
  EXPECT_EQ(job.pending.size(), 2u);
  model.unqueue_job(job);
  EXPECT_TRUE(model.queues["p"].empty());
  EXPECT_EQ(job.pending.size(), 2u) << "unqueued, still pending";
}

TEST(ClusterModel, TheQueueOrdersByPriorityThenSubmission) {
  ClusterModel model;
  JobInfo& low = add_job(model, "low", 0);
  JobInfo& high = add_job(model, "high", 10);
  model.queue_job(low);
  model.queue_job(high);
  model.add_pending(low, item("a", 1));
  model.add_pending(high, item("b", 2));
  model.add_pending(low, item("c", 3));
  std::vector<std::string> order;
  for (const auto& key : model.queues["p"]) order.push_back(key.job_key);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "low", "low"}));
}

TEST(ClusterModel, RemovePendingTakesTheTaskOutOfItsJobAndQueue) {
  ClusterModel model;
  JobInfo& job = add_job(model, "Job");
  model.queue_job(job);
  model.add_pending(job, item("t1", 1));
  model.remove_pending("JOB", "T1");  // ids compare case-insensitively
  EXPECT_TRUE(job.pending.empty());
  EXPECT_TRUE(model.queues["p"].empty());
  EXPECT_TRUE(model.pending_seq.empty());
}

TEST(ClusterModel, ReaddPendingSkipsATaskThatRunsAgain) {
  ClusterModel model;
  JobInfo& job = add_job(model, "j");
  model.attempt_of_task[task_key("j", "t1")] = "a2";
  model.readd_pending(job, item("t1", 1));
  EXPECT_TRUE(job.pending.empty());
}

TEST(ClusterModel, DropAttemptGivesBackSlotsAndTheJobsRunningCount) {
  ClusterModel model;
  JobInfo& job = add_job(model, "j");
  job.running = 1;
  NodeInfo& node = model.nodes["n1"];
  node.id = "n1";
  node.attempts.insert("a1");
  node.used_slots = 2;
  AttemptInfo info{"j", "t1", "n1", 2, false, false, -1, {}};
  model.attempts["a1"] = info;
  model.attempt_of_task[task_key("j", "t1")] = "a1";

  EXPECT_EQ(model.drop_attempt("a1", info), &job);
  EXPECT_EQ(node.used_slots, 0);
  EXPECT_TRUE(node.attempts.empty());
  EXPECT_EQ(job.running, 0);
  EXPECT_TRUE(model.attempts.empty());
  EXPECT_TRUE(model.attempt_of_task.empty());
}

TEST(ClusterModel, AGangGoesWithItsLastInstanceAndCountsOnceAgainstItsJob) {
  ClusterModel model;
  JobInfo& job = add_job(model, "j");
  job.running = 1;
  AttemptInfo primary{"j", "t", "n0", 1, false, false, -1, {}};
  model.adopt_instance(primary, "a1", 0);
  ASSERT_EQ(primary.gang, "a1");
  model.attempts["a1"] = primary;
  ASSERT_EQ(model.gangs.count("a1"), 1u);
  GangInfo& gang = model.gangs["a1"];
  EXPECT_EQ(gang.live, 1u);
  // A second instance, known by the primary's id.
  AttemptInfo second{"j", "t", "n1", 1, false, false, 1, "a1"};
  gang.live++;
  model.attempts["a1-1"] = second;

  model.drop_attempt("a1-1", second);
  EXPECT_EQ(job.running, 1) << "an instance other than the primary does not count";
  EXPECT_EQ(model.gangs.count("a1"), 1u);
  EXPECT_FALSE(model.gang_deciding("a1"));
  model.attempts["a1"].finishing = true;
  EXPECT_TRUE(model.gang_deciding("a1"));
  model.drop_attempt("a1", primary);
  EXPECT_EQ(job.running, 0);
  EXPECT_EQ(model.gangs.count("a1"), 0u);
}

}  // namespace
}  // namespace openbatch::cluster
