// Static pools: joining with the pool's join token, node tokens, and nodes leaving when the pool
// shrinks or a node is removed (their attempts requeued elsewhere).
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(EngineTest, JoinWithAWrongTokenOrPoolIs401AndCreatesNothing) {
  token = h.add_pool(kPool, 2, 1);
  SimulatedAgent agent(h, kPool);
  auto wrong = agent.try_join(std::string(kPool) + ".wrong");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().status, 401);
  EXPECT_EQ(wrong.error().code, "AuthenticationFailed");
  SimulatedAgent stranger(h, "no-such-pool");
  auto unknown = stranger.try_join(token);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().status, 401);
  auto nodes = h.call("GET", "/pools/" + std::string(kPool) + "/nodes");
  ASSERT_EQ(nodes.status, 200);
  EXPECT_TRUE(nodes.body["value"].empty()) << nodes.body.dump();
  // The right token joins.
  auto joined = agent.try_join(token);
  ASSERT_TRUE(joined) << joined.error().message;
  EXPECT_TRUE(joined->node_id.starts_with("tvmps_"));
  EXPECT_EQ(joined->pool_id, kPool);
  EXPECT_EQ(h.node_state(kPool, joined->node_id), "starting");
}

TEST_F(EngineTest, JoinBeyondTheTargetIsRefused) {
  pool_with_nodes(1);
  SimulatedAgent extra(h, kPool);
  auto refused = extra.try_join(token);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 409);
  EXPECT_EQ(refused.error().code, "PoolTargetReached");
}

TEST_F(EngineTest, NodeTokenAuthenticatesItsNodeOnly) {
  pool_with_nodes(2);
  const SimulatedAgent& a = *agents[0];
  const SimulatedAgent& b = *agents[1];
  EXPECT_EQ(h.engine().authenticate_node(a.node_token()), a.node_id());
  EXPECT_EQ(h.engine().authenticate_node(b.node_token()), b.node_id());
  EXPECT_EQ(h.engine().authenticate_node(a.node_id() + ".not-the-secret"), std::nullopt);
  EXPECT_EQ(h.engine().authenticate_node(""), std::nullopt);
  EXPECT_EQ(h.engine().authenticate_node(token), std::nullopt) << "a join token is no node token";
}

TEST_F(EngineTest, LinkOfANodeOutsideEveryPoolIsClosed) {
  pool_with_nodes(1);
  auto link = std::make_shared<FakeAgentChannel>("tvmps_unknown");
  h.engine().on_link_opened(link, "tvmps_unknown");
  ASSERT_TRUE(h.run_until([&] { return link->closed(); }));
  EXPECT_EQ(link->close_code(), 1008);
}

TEST_F(EngineTest, PoolResizedDownRemovesAnIdleNodeFirst) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "busy");
  ASSERT_TRUE(h.wait_task_state(kJob, "busy", "running"));
  const std::string busy_node = node_of(kJob, "busy");
  SimulatedAgent* idle = agents[0]->node_id() == busy_node ? agents[1].get() : agents[0].get();
  h.sweep();  // the pool's allocation is steady: its two nodes joined
  auto reply =
      h.call("POST", "/pools/" + std::string(kPool) + "/resize", json{{"targetDedicatedNodes", 1}});
  ASSERT_EQ(reply.status, 202) << reply.body.dump();
  ASSERT_TRUE(h.run_until([&] { return h.node_state(kPool, idle->node_id()) == "(absent)"; }));
  EXPECT_TRUE(h.run_until([&] { return idle->link().closed(); }));
  EXPECT_FALSE(h.engine().authenticate_node(idle->node_token())) << "its token outlived it";
  // The busy node and its task are untouched.
  EXPECT_EQ(h.node_state(kPool, busy_node), "running");
  EXPECT_EQ(h.task_state(kJob, "busy"), "running");
  EXPECT_EQ(execution_info(kJob, "busy").value("requeueCount", -1), 0);
}

TEST_F(EngineTest, RemovedNodesAttemptIsCancelledAndRequeuedElsewhere) {
  pool_with_nodes(2);
  h.add_job(kJob, kPool);
  h.add_task(kJob, "moved");
  ASSERT_TRUE(h.wait_task_state(kJob, "moved", "running"));
  const std::string removed_node = node_of(kJob, "moved");
  const std::string first_attempt = attempt_of(kJob, "moved");
  SimulatedAgent* removed = agent_of(removed_node);
  SimulatedAgent* other = agents[0].get() == removed ? agents[1].get() : agents[0].get();
  h.sweep();
  auto reply = h.call("POST", "/pools/" + std::string(kPool) + "/removenodes",
                      json{{"nodeList", json::array({removed_node})}});
  ASSERT_EQ(reply.status, 202) << reply.body.dump();
  ASSERT_TRUE(removed->wait_cancel(first_attempt));
  EXPECT_EQ(removed->link().sent<protocol::Cancel>().back().reason,
            protocol::CancelReason::NodeRemoved);
  ASSERT_TRUE(h.run_until([&] { return h.node_state(kPool, removed_node) == "(absent)"; }));
  auto again = other->wait_assignment();
  ASSERT_TRUE(again) << "the removed node's task did not move";
  EXPECT_EQ(again->task_id, "moved");
  EXPECT_EQ(again->requeue_count, 1);
}

TEST_F(EngineTest, InventoryUpdateIsStoredAndAcked) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  // Joined without a hash on record: its first welcome asks for the inventory.
  EXPECT_TRUE(agent.link().sent<protocol::Welcome>()[0].inventory_wanted);
  const json inventory = {{"hostname", "gpu-box"},
                          {"gpus", json::array({{{"uuid", "GPU-1"}, {"name", "H100"}}})}};
  const auto seq = agent.inventory(inventory, "inventory-2");
  ASSERT_TRUE(agent.wait_acked(seq));
  auto node = h.node(kPool, agent.node_id());
  ASSERT_TRUE(node);
  EXPECT_EQ((*node)["openbatch"].value("inventoryHash", ""), "inventory-2");
  EXPECT_EQ((*node)["openbatch"]["inventory"]["gpus"][0].value("uuid", ""), "GPU-1");
  // A new link whose hello names the same hash is not asked for it again.
  agent.open_link();
  agent.hello();
  ASSERT_TRUE(agent.wait_welcome());
  EXPECT_FALSE(agent.link().sent<protocol::Welcome>()[0].inventory_wanted);
}

}  // namespace
}  // namespace openbatch::testing
