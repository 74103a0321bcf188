// The engine's part in job, task and pool lifecycles driven through the API: a terminated job
// starts nothing more, a job that ends with its tasks, a task terminated and reactivated at
// once, a pool deleted under its nodes.
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(EngineTest, TerminatedJobsActiveTasksAreNotStarted) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "running");
  h.add_task(kJob, "queued");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->task_id, "running");
  ASSERT_EQ(h.call("POST", "/jobs/" + std::string(kJob) + "/terminate").status, 202);
  ASSERT_TRUE(agent.wait_cancel(a->attempt_id));
  agent.report_completed(a->attempt_id, 143);
  ASSERT_TRUE(h.wait_node_state(kPool, agent.node_id(), "idle"));
  h.run_for(200ms);
  // The slot is free, yet the terminated job's waiting task never starts.
  EXPECT_EQ(agent.link().sent<protocol::Assignment>().size(), 1u);
  EXPECT_EQ(h.task_state(kJob, "queued"), "active");
}

TEST_F(EngineTest, JobWithTerminateJobEndsWhenItsLastTaskCompletes) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool, {{"onAllTasksComplete", "noaction"}});
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  auto patched =
      h.call("PATCH", "/jobs/" + std::string(kJob), json{{"onAllTasksComplete", "terminatejob"}});
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  h.run_for(100ms);
  EXPECT_EQ(h.job(kJob)->value("state", ""), "active") << "ended with a task still running";
  agent.report_completed(a->attempt_id, 0);
  ASSERT_TRUE(h.run_until([&] {
    auto job = h.job(kJob);
    return job && job->value("state", "") != "active";
  }));
  auto job = h.job(kJob);
  EXPECT_EQ(job->value("state", ""), "terminating");
  EXPECT_EQ((*job)["executionInfo"].value("terminateReason", ""), "AllTasksComplete");
}

TEST_F(EngineTest, TaskTerminatedAndReactivatedAtOnceRunsAgain) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "again");
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  ASSERT_EQ(h.call("POST", "/jobs/" + std::string(kJob) + "/tasks/again/terminate").status, 204);
  ASSERT_EQ(h.call("POST", "/jobs/" + std::string(kJob) + "/tasks/again/reactivate").status, 204);
  // The old attempt is still on the node (its agent has not reported): it is stopped, and
  // its report, when it comes, leaves the new run alone.
  ASSERT_TRUE(agent.wait_cancel(first->attempt_id));
  agent.report_completed(first->attempt_id, 143);
  auto second = agent.wait_assignment(2);
  ASSERT_TRUE(second) << "the reactivated task did not run again";
  EXPECT_NE(second->attempt_id, first->attempt_id);
  agent.report_completed(second->attempt_id, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "again", "completed"));
  const json info = execution_info(kJob, "again");
  EXPECT_EQ(info.value("result", ""), "success");
  EXPECT_EQ(info.value("exitCode", -1), 0);
}

TEST_F(EngineTest, DeletedPoolsNodesLeaveAndTheirLinksClose) {
  pool_with_nodes(2);
  ASSERT_EQ(h.call("DELETE", "/pools/" + std::string(kPool)).status, 202);
  for (auto& agent : agents) {
    const std::string id = agent->node_id();
    EXPECT_TRUE(h.run_until([&] { return h.node_state(kPool, id) == "(absent)"; })) << id;
    EXPECT_TRUE(h.run_until([&] { return agent->link().closed(); })) << id;
    EXPECT_FALSE(h.engine().authenticate_node(agent->node_token()));
  }
}

}  // namespace
}  // namespace openbatch::testing
