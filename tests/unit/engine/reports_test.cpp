// Reports from agents: applied exactly once, acked once durable, retries and their limit, and
// what a new link's hello reconciles (reports resent, assignments lost).
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(EngineTest, RunningReportIsAckedAndTheTaskStaysRunning) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  const auto seq = agent.report_running(a->attempt_id);
  ASSERT_TRUE(agent.wait_acked(seq));
  EXPECT_EQ(h.task_state(kJob, "t1"), "running");
  EXPECT_EQ(h.node_state(kPool, agent.node_id()), "running");
}

TEST_F(EngineTest, CompletedWithExitZeroCompletesTheTask) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  agent.report_running(a->attempt_id);
  const auto seq = agent.report_completed(a->attempt_id, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  ASSERT_TRUE(agent.wait_acked(seq));
  const json info = execution_info(kJob, "t1");
  EXPECT_EQ(info.value("exitCode", -1), 0);
  EXPECT_EQ(info.value("result", ""), "success");
  EXPECT_EQ(info.value("retryCount", -1), 0);
  EXPECT_FALSE(info.contains("failureInfo"));
  // The node is free again.
  EXPECT_TRUE(h.wait_node_state(kPool, agent.node_id(), "idle"));
}

TEST_F(EngineTest, FailureWithRetriesLeftIsRetriedAsANewAttempt) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1", {{"constraints", {{"maxTaskRetryCount", 1}}}});
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  agent.report_completed(first->attempt_id, 3);
  auto second = agent.wait_assignment(2);
  ASSERT_TRUE(second) << "the retry was not dispatched";
  EXPECT_NE(second->attempt_id, first->attempt_id);
  EXPECT_EQ(second->retry_count, 1);
  EXPECT_EQ(h.task_state(kJob, "t1"), "running");
  EXPECT_EQ(execution_info(kJob, "t1").value("retryCount", -1), 1);
  agent.report_completed(second->attempt_id, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  EXPECT_EQ(execution_info(kJob, "t1").value("result", ""), "success");
}

TEST_F(EngineTest, FailureWithNoRetriesLeftCompletesTheTaskAsFailed) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1", {{"constraints", {{"maxTaskRetryCount", 1}}}});
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  agent.report_completed(first->attempt_id, 3);
  auto second = agent.wait_assignment(2);
  ASSERT_TRUE(second);
  agent.report_completed(second->attempt_id, 4);
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  const json info = execution_info(kJob, "t1");
  EXPECT_EQ(info.value("result", ""), "failure");
  EXPECT_EQ(info.value("exitCode", -1), 4);
  EXPECT_EQ(info.value("retryCount", -1), 1);
  ASSERT_TRUE(info.contains("failureInfo"));
  EXPECT_EQ(info["failureInfo"].value("code", ""), "FailureExitCode");
  h.run_for(100ms);
  EXPECT_EQ(agent.link().sent<protocol::Assignment>().size(), 2u);
  // The job's failed count sees it (the store's failure mark).
  auto counts = h.call("GET", "/jobs/" + std::string(kJob) + "/taskcounts");
  ASSERT_EQ(counts.status, 200) << counts.body.dump();
  EXPECT_EQ(counts.body["taskCounts"].value("failed", -1), 1);
}

TEST_F(EngineTest, DuplicateCompletionReportIsAppliedOnce) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1", {{"constraints", {{"maxTaskRetryCount", 5}}}});
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  // The agent resends a report it saw no ack for: same seq, same content, twice in a row,
  // then once more under a new seq.
  const auto report = SimulatedAgent::completed_report(first->attempt_id, 1);
  const auto seq = agent.send(report);
  agent.send_with_seq(seq, report);
  const auto again = agent.send(report);
  ASSERT_TRUE(agent.wait_acked(seq));
  ASSERT_TRUE(agent.wait_acked(again));
  ASSERT_TRUE(agent.wait_assignment(2));
  h.run_for(200ms);
  // One failure, one retry -- not three.
  EXPECT_EQ(execution_info(kJob, "t1").value("retryCount", -1), 1);
  EXPECT_EQ(agent.link().sent<protocol::Assignment>().size(), 2u);
}

TEST_F(EngineTest, UnackedReportResentInHelloOnANewLinkIsApplied) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  // The link breaks before the report goes out; the agent keeps it in its outbox.
  agent.close_link();
  h.run_for(50ms);
  agent.open_link();
  const protocol::PendingReport pending{41, SimulatedAgent::completed_report(a->attempt_id, 0)};
  agent.hello({}, {pending});
  ASSERT_TRUE(agent.wait_welcome());
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  EXPECT_TRUE(agent.wait_acked(41)) << "the resent report's seq was not acked on the new link";
  EXPECT_EQ(execution_info(kJob, "t1").value("requeueCount", -1), 0);
}

TEST_F(EngineTest, AssignmentLostBeforeItStartedIsRequeuedOnTheNextHello) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  // The agent never got it (the link broke with the frame in flight): its hello lists no
  // attempt. The engine requeues the task and assigns it again on the new link.
  agent.close_link();
  agent.open_link();
  agent.hello();
  ASSERT_TRUE(agent.wait_welcome());
  agent.node_status(protocol::SetupState::Ready);
  auto second = agent.wait_assignment();
  ASSERT_TRUE(second) << "the lost assignment was not sent again";
  EXPECT_EQ(second->task_id, "t1");
  EXPECT_NE(second->attempt_id, first->attempt_id);
  EXPECT_EQ(second->requeue_count, 1);
  EXPECT_EQ(execution_info(kJob, "t1").value("requeueCount", -1), 1);
}

TEST_F(EngineTest, UnknownRunningAttemptInHelloIsCancelled) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  agent.open_link();
  agent.hello({protocol::RunningAttempt{"job:ghost:1:1", protocol::AttemptState::Running, {}}});
  ASSERT_TRUE(agent.wait_welcome());
  ASSERT_TRUE(agent.wait_cancel("job:ghost:1:1"));
  auto cancels = agent.link().sent<protocol::Cancel>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, protocol::CancelReason::UnknownAttempt);
}

TEST_F(EngineTest, FrameBeforeHelloClosesTheLink) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  agent.open_link();
  agent.heartbeat();
  ASSERT_TRUE(h.run_until([&] { return agent.link().closed(); }));
  EXPECT_EQ(agent.link().close_code(), 1008);
}

}  // namespace
}  // namespace openbatch::testing
