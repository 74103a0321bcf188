// A scheduler restart: a new store, router and engine on the same database rebuild the model
// from it. Agents that outlived the old scheduler reconnect and keep their attempts; what they
// reported meanwhile, or report afterwards, lands exactly once.
#include "scheduler/domain/gang_execution.hpp"
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class RestartTest : public EngineTest {
 protected:
  // The agent's link to the new scheduler, hello listing `running`.
  void reconnect(SimulatedAgent& agent, const std::vector<std::string>& running,
                 std::vector<protocol::PendingReport> unacked = {}) {
    std::vector<protocol::RunningAttempt> list;
    for (const auto& id : running)
      list.push_back({id, protocol::AttemptState::Running, std::nullopt});
    agent.open_link();
    agent.hello(std::move(list), std::move(unacked));
    ASSERT_TRUE(agent.wait_welcome());
    agent.node_status(protocol::SetupState::Ready);
  }
};

TEST_F(RestartTest, RunningAttemptsAreKeptAndAReportAfterTheRestartLands) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  h.add_task(kJob, "t2");
  h.add_task(kJob, "waiting");
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "running"));
  ASSERT_TRUE(h.wait_task_state(kJob, "t2", "running"));
  const std::string a1 = attempt_of(kJob, "t1");
  const std::string a2 = attempt_of(kJob, "t2");
  SimulatedAgent* n1 = agent_of(node_of(kJob, "t1"));
  SimulatedAgent* n2 = agent_of(node_of(kJob, "t2"));
  ASSERT_TRUE(n1 && n2 && n1 != n2);
  // The agents have their assignments before the scheduler goes.
  ASSERT_TRUE(n1->wait_assignment());
  ASSERT_TRUE(n2->wait_assignment());

  h.restart();
  EXPECT_TRUE(n1->link().dropped()) << "the stopping engine left its links up";
  reconnect(*n1, {a1});
  reconnect(*n2, {a2});
  h.run_for(200ms);
  EXPECT_EQ(h.task_state(kJob, "t1"), "running");
  EXPECT_EQ(h.task_state(kJob, "t2"), "running");
  EXPECT_EQ(h.task_state(kJob, "waiting"), "active");
  EXPECT_TRUE(n1->link().sent<protocol::Cancel>().empty());
  EXPECT_TRUE(n2->link().sent<protocol::Cancel>().empty());
  EXPECT_EQ(execution_info(kJob, "t1").value("requeueCount", -1), 0);

  n1->report_completed(a1, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "completed"));
  // The freed slot goes to the task that waited through the restart.
  auto next = n1->wait_assignment();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->task_id, "waiting");
}

TEST_F(RestartTest, ReportMadeWhileTheSchedulerWasAwayIsAppliedOnce) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1", {{"constraints", {{"maxTaskRetryCount", 3}}}});
  SimulatedAgent& agent = *agents[0];
  auto a = agent.wait_assignment();
  ASSERT_TRUE(a);
  h.restart();
  // It failed while no scheduler listened: the report waits in the agent's outbox.
  const protocol::PendingReport pending{7, SimulatedAgent::completed_report(a->attempt_id, 2)};
  reconnect(agent, {}, {pending});
  ASSERT_TRUE(agent.wait_acked(7));
  auto retry = agent.wait_assignment();
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->retry_count, 1);
  // The agent resends it once more (the ack crossed a second reconnect): nothing changes.
  reconnect(agent, {retry->attempt_id}, {pending});
  ASSERT_TRUE(agent.wait_acked(7));
  h.run_for(100ms);
  EXPECT_EQ(execution_info(kJob, "t1").value("retryCount", -1), 1);
  EXPECT_EQ(attempt_of(kJob, "t1"), retry->attempt_id);
}

TEST_F(RestartTest, GangKeepsItsCoordinationAndStartsOnce) {
  pool_with_nodes(2, 1, {{"enableInterNodeCommunication", true}});
  h.add_job(kJob, kPool);
  h.add_task(kJob, "mpi",
             {{"multiInstanceSettings",
               {{"numberOfInstances", 2}, {"coordinationCommandLine", "/bin/true"}}}});
  ASSERT_TRUE(h.wait_task_state(kJob, "mpi", "running"));
  const std::string primary = attempt_of(kJob, "mpi");
  const std::string sub = domain::instance_attempt_id(primary, 1);
  SimulatedAgent* primary_agent = agent_of(node_of(kJob, "mpi"));
  SimulatedAgent* sub_agent = agents[0].get() == primary_agent ? agents[1].get() : agents[0].get();
  ASSERT_TRUE(primary_agent->wait_assignment());
  ASSERT_TRUE(sub_agent->wait_assignment());
  const auto seq = primary_agent->report_coordinated(primary);
  ASSERT_TRUE(primary_agent->wait_acked(seq));

  h.restart();
  reconnect(*primary_agent, {primary});
  reconnect(*sub_agent, {sub});
  h.run_for(100ms);
  EXPECT_TRUE(primary_agent->link().sent<protocol::StartApplication>().empty());
  sub_agent->report_coordinated(sub);
  ASSERT_TRUE(h.run_until(
      [&] { return !primary_agent->link().sent<protocol::StartApplication>().empty(); }));
  h.run_for(100ms);
  EXPECT_EQ(primary_agent->link().sent<protocol::StartApplication>().size(), 1u);
  primary_agent->report_completed(primary, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "mpi", "completed"));
  const json info = execution_info(kJob, "mpi");
  EXPECT_EQ(info.value("result", ""), "success");
  EXPECT_EQ(info.value("retryCount", -1), 0);
  EXPECT_EQ(info.value("requeueCount", -1), 0);
  EXPECT_TRUE(sub_agent->wait_cancel(sub));
}

}  // namespace
}  // namespace openbatch::testing
