// What the API's terminate and delete do to attempts already on nodes: a cancel frame to the
// agent, with the reason, and the attempt's end recorded once the agent reports it.
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(EngineTest, JobTerminateCancelsItsRunningAttempts) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_job("other", kPool);
  h.add_task(kJob, "t1");
  h.add_task("other", "keep");
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "running"));
  ASSERT_TRUE(h.wait_task_state("other", "keep", "running"));
  const std::string attempt = attempt_of(kJob, "t1");
  SimulatedAgent* agent = agent_of(node_of(kJob, "t1"));
  ASSERT_NE(agent, nullptr);
  auto reply = h.call("POST", "/jobs/" + std::string(kJob) + "/terminate");
  ASSERT_EQ(reply.status, 202) << reply.body.dump();
  ASSERT_TRUE(agent->wait_cancel(attempt));
  auto cancels = agent->link().sent<protocol::Cancel>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, protocol::CancelReason::JobTerminated);
  // The other job's attempt is left alone.
  SimulatedAgent* keeper = agent_of(node_of("other", "keep"));
  for (const auto& c : keeper->link().sent<protocol::Cancel>())
    EXPECT_NE(c.attempt_id, attempt_of("other", "keep"));
  // The agent stops it and reports; the task ends completed, the node is free.
  agent->report_completed(attempt, 143);
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  EXPECT_TRUE(h.run_until([&] {
    auto node = h.node(kPool, agent->node_id());
    return node && (*node)["openbatch"].value("attempts", json::object()).empty();
  }));
}

TEST_F(EngineTest, TaskTerminateWhileRunningCancelsTheAttempt) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  agent.report_running(a->attempt_id);
  auto reply = h.call("POST", "/jobs/" + std::string(kJob) + "/tasks/t1/terminate");
  ASSERT_EQ(reply.status, 204) << reply.body.dump();
  EXPECT_EQ(h.task_state(kJob, "t1"), "completed");
  ASSERT_TRUE(agent.wait_cancel(a->attempt_id));
  EXPECT_EQ(agent.link().sent<protocol::Cancel>()[0].reason,
            protocol::CancelReason::TaskTerminated);
  // The agent's late report does not reopen or retry the task, and frees the slot.
  const auto seq = agent.report_completed(a->attempt_id, 143);
  ASSERT_TRUE(agent.wait_acked(seq));
  h.add_task(kJob, "t2");
  auto next = agent.wait_assignment(2);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->task_id, "t2");
  EXPECT_EQ(h.task_state(kJob, "t1"), "completed");
}

TEST_F(EngineTest, TaskDeleteWhileRunningCancelsTheAttempt) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  auto reply = h.call("DELETE", "/jobs/" + std::string(kJob) + "/tasks/t1");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  ASSERT_TRUE(agent.wait_cancel(a->attempt_id));
  EXPECT_EQ(agent.link().sent<protocol::Cancel>()[0].reason, protocol::CancelReason::TaskDeleted);
  EXPECT_EQ(h.task_state(kJob, "t1"), "(absent)");
  const auto seq = agent.report_completed(a->attempt_id, 143);
  ASSERT_TRUE(agent.wait_acked(seq));
  EXPECT_EQ(h.task_state(kJob, "t1"), "(absent)");
}

TEST_F(EngineTest, CancelDecidedWhileTheNodeWasAwayIsSentOnItsHello) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  agent.close_link();
  h.run_for(20ms);
  auto reply = h.call("POST", "/jobs/" + std::string(kJob) + "/terminate");
  ASSERT_EQ(reply.status, 202);
  h.run_for(100ms);
  agent.open_link();
  agent.hello({protocol::RunningAttempt{a->attempt_id, protocol::AttemptState::Running, {}}});
  ASSERT_TRUE(agent.wait_cancel(a->attempt_id)) << "the cancel was not sent on the new link";
}

}  // namespace
}  // namespace openbatch::testing
