// Placement rounds as agents see them: what an assignment carries, which nodes get one, and in
// what order and how many tasks start.
#include "tests/unit/engine/engine_test_support.hpp"

#include <future>

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(EngineTest, PlainTaskIsAssignedToTheReadyNodeWithItsFields) {
  pool_with_nodes(1);
  h.add_job(kJob, kPool,
            {{"commonEnvironmentSettings", json::array({{{"name", "JOBVAR"}, {"value", "j"}}})}});
  h.add_task(kJob, "t1",
             {{"commandLine", "/bin/sh -c 'echo hi'"},
              {"environmentSettings", json::array({{{"name", "TASKVAR"}, {"value", "t"}}})},
              {"constraints", {{"maxTaskRetryCount", 2}}}});
  SimulatedAgent& agent = *agents[0];
  auto assignment = agent.wait_assignment();
  ASSERT_TRUE(assignment) << "no assignment reached the node";
  EXPECT_EQ(assignment->job_id, kJob);
  EXPECT_EQ(assignment->task_id, "t1");
  EXPECT_EQ(assignment->command_line, "/bin/sh -c 'echo hi'");
  EXPECT_EQ(assignment->retry_count, 0);
  EXPECT_EQ(assignment->requeue_count, 0);
  EXPECT_EQ(assignment->required_slots, 1);
  EXPECT_EQ(assignment->constraints.max_task_retry_count, 2);
  ASSERT_EQ(assignment->environment.size(), 1u);
  EXPECT_EQ(assignment->environment[0], (protocol::EnvironmentSetting{"TASKVAR", "t"}));
  ASSERT_EQ(assignment->job_environment.size(), 1u);
  EXPECT_EQ(assignment->job_environment[0], (protocol::EnvironmentSetting{"JOBVAR", "j"}));
  EXPECT_FALSE(assignment->multi_instance);
  // The store says the same: running on that node, under that attempt.
  ASSERT_TRUE(h.wait_task_state(kJob, "t1", "running"));
  EXPECT_EQ(node_of(kJob, "t1"), agent.node_id());
  EXPECT_EQ(attempt_of(kJob, "t1"), assignment->attempt_id);
  EXPECT_EQ(h.node_state(kPool, agent.node_id()), "running");
}

TEST_F(EngineTest, NodeNotReadyGetsNothingUntilItsSetupSaysReady) {
  token = h.add_pool(kPool, 1, 1);
  SimulatedAgent agent(h, kPool);
  ASSERT_TRUE(agent.try_join(token));
  agent.open_link();
  agent.hello();
  ASSERT_TRUE(agent.wait_welcome());
  agent.node_status(protocol::SetupState::WaitingForStartTask);
  ASSERT_TRUE(h.wait_node_state(kPool, agent.node_id(), "waitingforstarttask"));
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  h.run_for(200ms);
  EXPECT_TRUE(agent.link().sent<protocol::Assignment>().empty());
  EXPECT_EQ(h.task_state(kJob, "t1"), "active");

  agent.node_status(protocol::SetupState::Ready);
  auto assignment = agent.wait_assignment();
  ASSERT_TRUE(assignment);
  EXPECT_EQ(assignment->task_id, "t1");
}

TEST_F(EngineTest, NodeWhoseStartTaskFailedTakesNoTask) {
  token = h.add_pool(kPool, 2, 1);
  SimulatedAgent failed(h, kPool);
  ASSERT_TRUE(failed.try_join(token));
  failed.open_link();
  failed.hello();
  ASSERT_TRUE(failed.wait_welcome());
  failed.node_status(protocol::SetupState::StartTaskFailed);
  ASSERT_TRUE(h.wait_node_state(kPool, failed.node_id(), "starttaskfailed"));
  SimulatedAgent& good = add_node();
  h.add_job(kJob, kPool);
  h.add_task(kJob, "t1");
  h.add_task(kJob, "t2");
  ASSERT_TRUE(good.wait_assignment());
  h.run_for(200ms);
  EXPECT_TRUE(failed.link().sent<protocol::Assignment>().empty());
  EXPECT_EQ(h.task_state(kJob, "t2"), "active");
}

TEST_F(EngineTest, NodeWithSchedulingDisabledTakesNoTask) {
  pool_with_nodes(2);
  SimulatedAgent& disabled = *agents[0];
  SimulatedAgent& enabled = *agents[1];
  // The API has no disablescheduling yet; the stored schedulingState is what the engine
  // honours, so write it and let a restarted engine load it.
  std::promise<Status> written;
  h.store().submit(
      [&](store::Writer& w) {
        auto record = w.get(store::Table::Nodes, kPool, disabled.node_id());
        if (!record) return false;
        auto body = json::parse(record->body);
        body["schedulingState"] = "disabled";
        record->body = body.dump();
        return w.update(store::Table::Nodes, *record);
      },
      [&](const Status& s) { written.set_value(s); });
  ASSERT_TRUE(written.get_future().get());
  h.restart();
  for (auto& a : agents) {
    a->open_link();
    a->hello();
    ASSERT_TRUE(a->wait_welcome());
    a->node_status(protocol::SetupState::Ready);
  }
  h.add_job(kJob, kPool);
  for (int i = 0; i < 3; ++i) h.add_task(kJob, "t" + std::to_string(i));
  ASSERT_TRUE(enabled.wait_assignment());
  h.run_for(200ms);
  EXPECT_TRUE(disabled.link().sent<protocol::Assignment>().empty());
  EXPECT_EQ(enabled.link().sent<protocol::Assignment>().size(), 1u);
  EXPECT_EQ(node_of(kJob, "t0"), enabled.node_id());
}

TEST_F(EngineTest, TaskSlotsPerNodeBoundTheTasksOnANode) {
  pool_with_nodes(1, 2);
  h.add_job(kJob, kPool);
  for (int i = 0; i < 3; ++i) h.add_task(kJob, "t" + std::to_string(i));
  SimulatedAgent& agent = *agents[0];
  ASSERT_TRUE(agent.wait_assignment(2));
  h.run_for(200ms);
  auto sent = agent.link().sent<protocol::Assignment>();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].task_id, "t0");
  EXPECT_EQ(sent[1].task_id, "t1");
  EXPECT_EQ(h.task_state(kJob, "t2"), "active");
  // A slot frees: the third starts.
  agent.report_completed(sent[0].attempt_id, 0);
  auto third = agent.wait_assignment(3);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->task_id, "t2");
}

TEST_F(EngineTest, RequiredSlotsTakeThatManySlots) {
  pool_with_nodes(1, 3);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "wide", {{"requiredSlots", 2}});
  h.add_task(kJob, "wide2", {{"requiredSlots", 2}});
  h.add_task(kJob, "narrow");
  SimulatedAgent& agent = *agents[0];
  auto first = agent.wait_assignment();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->task_id, "wide");
  EXPECT_EQ(first->required_slots, 2);
  // One slot left: the second wide task does not fit, the narrow one does.
  auto second = agent.wait_assignment(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->task_id, "narrow");
  h.run_for(200ms);
  EXPECT_EQ(agent.link().sent<protocol::Assignment>().size(), 2u);
  EXPECT_EQ(h.task_state(kJob, "wide2"), "active");
}

TEST_F(EngineTest, HigherPriorityJobsTasksStartFirst) {
  token = h.add_pool(kPool, 1, 1);
  // Tasks queue before any node can take them, so the order is the engine's choice alone.
  h.add_job("low", kPool, {{"priority", 10}});
  h.add_job("high", kPool, {{"priority", 500}});
  h.add_task("low", "l1");
  h.add_task("low", "l2");
  h.add_task("high", "h1");
  h.add_task("high", "h2");
  SimulatedAgent& agent = add_node();
  std::vector<std::string> order;
  for (int i = 1; i <= 4; ++i) {
    auto a = agent.wait_assignment(static_cast<std::size_t>(i));
    ASSERT_TRUE(a) << "assignment " << i;
    order.push_back(a->job_id + "/" + a->task_id);
    agent.report_completed(a->attempt_id, 0);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high/h1", "high/h2", "low/l1", "low/l2"}));
}

TEST_F(EngineTest, MaxParallelTasksCapsTheJobsRunningTasks) {
  pool_with_nodes(2, 2);
  h.add_job(kJob, kPool, {{"maxParallelTasks", 1}});
  h.add_job("free", kPool);
  h.add_task(kJob, "a");
  h.add_task(kJob, "b");
  h.add_task("free", "x");
  ASSERT_TRUE(h.wait_task_state(kJob, "a", "running"));
  ASSERT_TRUE(h.wait_task_state("free", "x", "running"));
  h.run_for(200ms);
  // Three free slots remain, yet the capped job runs one task at a time.
  EXPECT_EQ(h.task_state(kJob, "b"), "active");
  const std::string node = node_of(kJob, "a");
  agent_of(node)->report_completed(attempt_of(kJob, "a"), 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "a", "completed"));
  EXPECT_TRUE(h.wait_task_state(kJob, "b", "running"));
}

}  // namespace
}  // namespace openbatch::testing
