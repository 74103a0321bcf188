// Liveness on the engine's clock: a node silent for unknown_after heartbeats is unknown, for
// offline_after it is offline and its attempts are requeued elsewhere; a node that comes back
// (any frame, or a new link whose hello lists its attempts) keeps what it runs.
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Liveness needs the clock only (EngineTest::silence); the name groups these tests.
class LivenessTest : public EngineTest {};

TEST_F(LivenessTest, NodeSilentForUnknownAfterHeartbeatsIsUnknownThenBackOnAFrame) {
  pool_with_nodes(2);
  SimulatedAgent& quiet = *agents[0];
  SimulatedAgent& chatty = *agents[1];
  // 2 heartbeat intervals of silence: still fine.
  silence(20s, {&chatty});
  h.run_for(600ms);  // at least one liveness tick
  EXPECT_EQ(h.node_state(kPool, quiet.node_id()), "idle");
  // Past 3 intervals: unknown. The other node, heartbeating, stays idle.
  silence(20s, {&chatty});
  ASSERT_TRUE(h.wait_node_state(kPool, quiet.node_id(), "unknown"));
  EXPECT_EQ(h.node_state(kPool, chatty.node_id()), "idle");
  // Any frame brings it back.
  quiet.heartbeat();
  EXPECT_TRUE(h.wait_node_state(kPool, quiet.node_id(), "idle"));
}

TEST_F(LivenessTest, OfflineNodesAttemptsAreRequeuedAndRunElsewhere) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "survivor");
  ASSERT_TRUE(h.wait_task_state(kJob, "survivor", "running"));
  const std::string lost_node = node_of(kJob, "survivor");
  SimulatedAgent* lost = agent_of(lost_node);
  SimulatedAgent* other = agents[0].get() == lost ? agents[1].get() : agents[0].get();
  ASSERT_NE(lost, nullptr);
  // The agent dies without a word: its link stays open, it just says nothing any more.
  silence(70s, {other});
  ASSERT_TRUE(h.wait_node_state(kPool, lost_node, "offline"));
  EXPECT_TRUE(lost->link().closed()) << "the offline node's link was left open";
  auto again = other->wait_assignment();
  ASSERT_TRUE(again) << "the requeued task did not reach the other node";
  EXPECT_EQ(again->task_id, "survivor");
  EXPECT_EQ(again->requeue_count, 1);
  ASSERT_TRUE(h.wait_task_state(kJob, "survivor", "running"));
  EXPECT_EQ(node_of(kJob, "survivor"), other->node_id());
  other->report_completed(again->attempt_id, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "survivor", "completed"));
  const json info = execution_info(kJob, "survivor");
  EXPECT_EQ(info.value("requeueCount", -1), 1);
  EXPECT_EQ(info.value("result", ""), "success");
  // The lost node's record no longer lists the attempt.
  auto node = h.node(kPool, lost_node);
  ASSERT_TRUE(node);
  EXPECT_TRUE((*node)["openbatch"].value("attempts", json::object()).empty())
      << (*node)["openbatch"].dump();
}

TEST_F(LivenessTest, LinkClosedAndReopenedWithTheAttemptKeepsIt) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "running"));
  SimulatedAgent* agent = agent_of(node_of(kJob, "t1"));
  ASSERT_NE(agent, nullptr);
  // The store shows the dispatch before the frame leaves: wait for the frame.
  auto assignment = agent->wait_assignment();
  ASSERT_TRUE(assignment);
  const std::string attempt = assignment->attempt_id;
  ASSERT_EQ(attempt, attempt_of(kJob, "t1"));
  agent->report_running(attempt);
  agent->close_link();
  h.run_for(50ms);
  agent->open_link();
  agent->hello({protocol::RunningAttempt{attempt, protocol::AttemptState::Running, {}}});
  ASSERT_TRUE(agent->wait_welcome());
  agent->node_status(protocol::SetupState::Ready);
  h.run_for(200ms);
  // Same attempt, same node; nothing requeued, cancelled or assigned again.
  EXPECT_EQ(h.task_state(kJob, "t1"), "running");
  EXPECT_EQ(attempt_of(kJob, "t1"), attempt);
  EXPECT_EQ(execution_info(kJob, "t1").value("requeueCount", -1), 0);
  EXPECT_TRUE(agent->link().sent<protocol::Cancel>().empty());
  EXPECT_TRUE(agent->link().sent<protocol::Assignment>().empty());
  EXPECT_EQ(total_assignments(), 1u);
  // And its completion, on the new link, lands.
  agent->report_completed(attempt, 0);
  EXPECT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
}

}  // namespace
}  // namespace openbatch::testing
