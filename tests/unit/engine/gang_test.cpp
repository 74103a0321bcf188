// Multi-instance tasks (batch-api.md section 11): placed on N nodes at once, the primary's
// application started once all N coordinated, ended together when one instance decides.
#include "scheduler/store/subtask_rows.hpp"
#include "tests/unit/engine/engine_test_support.hpp"

#include <map>
#include <set>

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class GangTest : public EngineTest {
 protected:
  void SetUp() override {
    pool_with_nodes(3, 1, {{"enableInterNodeCommunication", true}});
    h.add_job(kJob, kPool);
  }
  void add_gang(const std::string& id, int instances, const json& extra = json::object()) {
    json task = {{"commandLine", "/bin/sh -c 'echo app'"},
                 {"multiInstanceSettings",
                  {{"numberOfInstances", instances}, {"coordinationCommandLine", "/bin/true"}}}};
    task.update(extra);
    h.add_task(kJob, id, task);
  }
  // Waits until `n` agents hold an assignment for the task; returns them by subtask id.
  std::map<int, std::pair<SimulatedAgent*, protocol::Assignment>> wait_instances(
      const std::string& task_id, std::size_t n, std::size_t nth_dispatch = 1) {
    std::map<int, std::pair<SimulatedAgent*, protocol::Assignment>> out;
    h.run_until([&] {
      out.clear();
      for (auto& agent : agents) {
        std::size_t seen = 0;
        for (auto& a : agent->assignments()) {
          if (a.task_id != task_id || !a.multi_instance) continue;
          // The nth dispatch of the task: its attempt ids end in ":<n>" before any mark.
          if (a.attempt_id.find(":" + std::to_string(nth_dispatch)) == std::string::npos) continue;
          ++seen;
          out[a.multi_instance->subtask_id] = {agent.get(), a};
        }
        (void)seen;
      }
      return out.size() >= n;
    });
    return out;
  }
};

TEST_F(GangTest, MultiInstanceTaskIsPlacedOnNDistinctNodes) {
  add_gang("mpi", 3);
  auto instances = wait_instances("mpi", 3);
  ASSERT_EQ(instances.size(), 3u);
  std::set<std::string> nodes;
  const auto& primary = instances[0].second;
  for (const auto& [k, placed] : instances) {
    const auto& [agent, a] = placed;
    nodes.insert(agent->node_id());
    ASSERT_TRUE(a.multi_instance);
    EXPECT_EQ(a.multi_instance->number_of_instances, 3);
    EXPECT_EQ(a.multi_instance->coordination_command_line, "/bin/true");
    EXPECT_EQ(a.multi_instance->node_list.size(), 3u);
    EXPECT_EQ(a.multi_instance->host_list.size(), 3u);
    EXPECT_EQ(a.multi_instance->node_list[k], agent->node_id());
    EXPECT_FALSE(a.multi_instance->exec_token.empty());
    EXPECT_EQ(a.multi_instance->exec_token, primary.multi_instance->exec_token);
  }
  EXPECT_EQ(nodes.size(), 3u) << "two instances share a node";
  ASSERT_TRUE(h.wait_task_state(kJob, "mpi", "running"));
  EXPECT_EQ(attempt_of(kJob, "mpi"), primary.attempt_id);
  EXPECT_EQ(node_of(kJob, "mpi"), instances[0].first->node_id());
}

TEST_F(GangTest, GangWiderThanThePoolWaitsWithAReason) {
  add_gang("too-wide", 4);
  h.add_task(kJob, "narrow");
  ASSERT_TRUE(h.wait_task_state(kJob, "narrow", "running"));
  ASSERT_TRUE(h.run_until([&] {
    auto t = h.task(kJob, "too-wide");
    return t && (*t)["openbatch"].contains("pendingReason");
  }));
  auto t = h.task(kJob, "too-wide");
  EXPECT_EQ((*t)["state"], "active");
  EXPECT_EQ((*t)["openbatch"]["pendingReason"].value("code", ""), "NotEnoughNodesForGang");
}

TEST_F(GangTest, AllCoordinatedStartsTheApplicationOnThePrimaryOnly) {
  add_gang("mpi", 2);
  auto instances = wait_instances("mpi", 2);
  ASSERT_EQ(instances.size(), 2u);
  auto& [primary_agent, primary] = instances[0];
  auto& [sub_agent, sub] = instances[1];
  const auto first = primary_agent->report_coordinated(primary.attempt_id);
  ASSERT_TRUE(primary_agent->wait_acked(first));
  h.run_for(100ms);
  EXPECT_TRUE(primary_agent->link().sent<protocol::StartApplication>().empty())
      << "started before every instance coordinated";
  const auto second = sub_agent->report_coordinated(sub.attempt_id);
  ASSERT_TRUE(sub_agent->wait_acked(second));
  ASSERT_TRUE(h.run_until(
      [&] { return !primary_agent->link().sent<protocol::StartApplication>().empty(); }));
  EXPECT_EQ(primary_agent->link().sent<protocol::StartApplication>()[0].attempt_id,
            primary.attempt_id);
  EXPECT_TRUE(sub_agent->link().sent<protocol::StartApplication>().empty());
  // Durable in the instances' rows, for a restarted scheduler.
  auto reader = h.store().reader();
  for (int k = 0; k < 2; ++k) {
    auto row = store::get_subtask_row(*reader, kJob, "mpi", k);
    ASSERT_TRUE(row) << "no row for instance " << k;
    EXPECT_EQ(json::parse(row->body).value("coordinated", false), true) << "instance " << k;
  }
}

TEST_F(GangTest, PrimaryCompletionCompletesTheTaskAndStopsTheSubtasks) {
  add_gang("mpi", 3);
  auto instances = wait_instances("mpi", 3);
  ASSERT_EQ(instances.size(), 3u);
  for (auto& [k, placed] : instances) placed.first->report_coordinated(placed.second.attempt_id);
  auto& [primary_agent, primary] = instances[0];
  ASSERT_TRUE(h.run_until(
      [&] { return !primary_agent->link().sent<protocol::StartApplication>().empty(); }));
  primary_agent->report_completed(primary.attempt_id, 0);
  ASSERT_TRUE(h.wait_task_state(kJob, "mpi", "completed"));
  EXPECT_EQ(execution_info(kJob, "mpi").value("result", ""), "success");
  for (int k = 1; k <= 2; ++k) {
    auto& [agent, a] = instances[k];
    ASSERT_TRUE(agent->wait_cancel(a.attempt_id)) << "subtask " << k << " was not stopped";
    EXPECT_EQ(agent->link().sent<protocol::Cancel>().back().reason,
              protocol::CancelReason::TaskCompleted);
    agent->report_completed(a.attempt_id, 0);
  }
  // The subtasks' own outcomes, as subtasksinfo shows them.
  ASSERT_TRUE(h.run_until([&] {
    auto reply = h.call("GET", "/jobs/" + std::string(kJob) + "/tasks/mpi/subtasksinfo");
    if (reply.status != 200 || !reply.body.contains("value") || reply.body["value"].size() != 2)
      return false;
    for (const auto& s : reply.body["value"])
      if (s.value("state", "") != "completed") return false;
    return true;
  }));
  // All three nodes are free again.
  for (auto& agent : agents) EXPECT_TRUE(h.wait_node_state(kPool, agent->node_id(), "idle"));
}

TEST_F(GangTest, SubtaskFailureEndsTheGangWithTheSubtasksExitCode) {
  add_gang("mpi", 2);
  auto instances = wait_instances("mpi", 2);
  ASSERT_EQ(instances.size(), 2u);
  auto& [primary_agent, primary] = instances[0];
  auto& [sub_agent, sub] = instances[1];
  // The coordination command fails on the subtask's node.
  sub_agent->report_completed(sub.attempt_id, 9);
  ASSERT_TRUE(h.wait_task_state(kJob, "mpi", "completed"));
  const json info = execution_info(kJob, "mpi");
  EXPECT_EQ(info.value("result", ""), "failure");
  EXPECT_EQ(info.value("exitCode", -1), 9);
  ASSERT_TRUE(info.contains("failureInfo"));
  EXPECT_NE(
      info["failureInfo"].value("message", "").find("Subtask 1 on node " + sub_agent->node_id()),
      std::string::npos)
      << info.dump();
  ASSERT_TRUE(primary_agent->wait_cancel(primary.attempt_id));
  EXPECT_TRUE(primary_agent->link().sent<protocol::StartApplication>().empty());
}

TEST_F(GangTest, SubtaskFailureWithARetryLeftRedispatchesTheWholeGang) {
  add_gang("mpi", 2, {{"constraints", {{"maxTaskRetryCount", 1}}}});
  auto first = wait_instances("mpi", 2, 1);
  ASSERT_EQ(first.size(), 2u);
  first[1].first->report_completed(first[1].second.attempt_id, 7);
  ASSERT_TRUE(first[0].first->wait_cancel(first[0].second.attempt_id));
  // The primary stops and says so; then both slots are free and the gang goes out again.
  first[0].first->report_completed(first[0].second.attempt_id, 143);
  auto second = wait_instances("mpi", 2, 2);
  ASSERT_EQ(second.size(), 2u) << "the retry was not placed as a whole gang";
  EXPECT_EQ(second[0].second.retry_count, 1);
  EXPECT_EQ(execution_info(kJob, "mpi").value("retryCount", -1), 1);
  EXPECT_EQ(h.task_state(kJob, "mpi"), "running");
}

TEST_F(GangTest, LostInstanceNodeRequeuesTheWholeTaskOntoOtherNodes) {
  add_gang("mpi", 2);
  auto first = wait_instances("mpi", 2, 1);
  ASSERT_EQ(first.size(), 2u);
  SimulatedAgent* lost = first[1].first;
  SimulatedAgent* primary_agent = first[0].first;
  std::vector<SimulatedAgent*> alive;
  for (auto& a : agents) {
    if (a.get() != lost) alive.push_back(a.get());
  }
  silence(std::chrono::seconds(70), alive);
  ASSERT_TRUE(h.wait_node_state(kPool, lost->node_id(), "offline"));
  // The primary's instance is stopped as requeued; the task goes out again as a whole, on
  // the two nodes left.
  ASSERT_TRUE(primary_agent->wait_cancel(first[0].second.attempt_id));
  EXPECT_EQ(primary_agent->link().sent<protocol::Cancel>().back().reason,
            protocol::CancelReason::Requeued);
  primary_agent->report_completed(first[0].second.attempt_id, 143);
  auto second = wait_instances("mpi", 2, 2);
  ASSERT_EQ(second.size(), 2u) << "the requeued gang was not placed again";
  for (auto& [k, placed] : second) EXPECT_NE(placed.first, lost) << "subtask " << k;
  EXPECT_EQ(second[0].second.requeue_count, 1);
  EXPECT_EQ(execution_info(kJob, "mpi").value("requeueCount", -1), 1);
}

}  // namespace
}  // namespace openbatch::testing
