// The node record as the durable capacity ledger: attempts fit or not, counts and idle/running
// follow the list, recentTasks and totals record what ran.
#include "scheduler/domain/node_record.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));

json idle_node() {
  NewNode spec;
  spec.id = "tvmps_1";
  spec.pool_id = "pool";
  spec.url = "http://h/pools/pool/nodes/tvmps_1";
  spec.vm_size = "standard_d2s_v3";
  spec.ip_address = "10.0.0.4";
  spec.provisioner = "static";
  spec.state = "idle";
  return make_node(spec, kNow);
}

AttemptOnNode attempt(const std::string& id, int slots) {
  return {id, "job", "task-" + id, "http://h/jobs/job/tasks/x", slots};
}

TEST(NodeRecord, NewNodeHasAzureFields) {
  json node = idle_node();
  EXPECT_EQ(node["affinityId"], "TVM:tvmps_1");
  EXPECT_EQ(node["schedulingState"], "enabled");
  EXPECT_EQ(node["isDedicated"], true);
  EXPECT_EQ(node["runningTasksCount"], 0);
  EXPECT_EQ(node["runningTaskSlotsCount"], 0);
  EXPECT_EQ(node["recentTasks"], json::array());
}

TEST(NodeRecord, AttemptsFitWithinTheSlotsAndDriveTheState) {
  json node = idle_node();
  EXPECT_TRUE(add_attempt(node, attempt("a", 2), 3, kNow));
  EXPECT_EQ(node["state"], "running");
  EXPECT_FALSE(add_attempt(node, attempt("b", 2), 3, kNow)) << "2 + 2 slots do not fit in 3";
  EXPECT_FALSE(add_attempt(node, attempt("a", 1), 3, kNow)) << "an attempt is listed once";
  EXPECT_TRUE(add_attempt(node, attempt("c", 1), 3, kNow));
  EXPECT_EQ(used_slots(node), 3);
  EXPECT_EQ(node["runningTasksCount"], 2);
  EXPECT_EQ(node["runningTaskSlotsCount"], 3);
  EXPECT_EQ(attempts_of(node).size(), 2u);

  json info = {{"exitCode", 0}, {"result", "success"}};
  EXPECT_TRUE(remove_attempt(node, "a", true, "completed", info, kNow));
  EXPECT_FALSE(remove_attempt(node, "a", true, "completed", info, kNow))
      << "removing twice changes nothing";
  EXPECT_TRUE(remove_attempt(node, "c", false, "completed", info, kNow));
  EXPECT_EQ(node["state"], "idle");
  EXPECT_EQ(node["totalTasksRun"], 2);
  EXPECT_EQ(node["totalTasksSucceeded"], 1);
  EXPECT_EQ(node["runningTaskSlotsCount"], 0);
  ASSERT_EQ(node["recentTasks"].size(), 2u);
  EXPECT_EQ(node["recentTasks"][0]["taskState"], "completed");
}

TEST(NodeRecord, RequeuedAttemptsDoNotCountAsRun) {
  json node = idle_node();
  ASSERT_TRUE(add_attempt(node, attempt("a", 1), 1, kNow));
  EXPECT_TRUE(remove_attempt(node, "a", std::nullopt, "active", json::object(), kNow));
  EXPECT_EQ(node["totalTasksRun"], 0);
}

TEST(NodeRecord, NodesThatAreNotUpKeepTheirState) {
  json node = idle_node();
  set_node_state(node, "unknown", kNow);
  ASSERT_TRUE(add_attempt(node, attempt("a", 1), 1, kNow));
  EXPECT_EQ(node["state"], "unknown") << "only idle/running follow the attempt list";
}

TEST(NodeRecord, RestingNodeStateFollowsTheSetupAndTheAttempts) {
  EXPECT_EQ(resting_node_state("", false), NodeState::Idle);
  EXPECT_EQ(resting_node_state("ready", true), NodeState::Running);
  EXPECT_EQ(resting_node_state("waitingforstarttask", false), NodeState::WaitingForStartTask);
  EXPECT_EQ(resting_node_state("starttaskfailed", true), NodeState::StartTaskFailed);
  EXPECT_EQ(resting_node_state("not-a-state", false), NodeState::Unusable);
}

TEST(NodeRecord, RecentTasksAreBounded) {
  json node = idle_node();
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(add_attempt(node, attempt(std::to_string(i), 1), 1, kNow));
    ASSERT_TRUE(remove_attempt(node, std::to_string(i), true, "completed", json::object(), kNow));
  }
  EXPECT_LE(node["recentTasks"].size(), 10u);
  EXPECT_EQ(node["totalTasksRun"], 25);
}

}  // namespace
}  // namespace openbatch::domain
