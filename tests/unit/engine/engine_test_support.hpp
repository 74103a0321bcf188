// What every engine test needs: a harness, and a static pool whose nodes are simulated agents
// already joined, linked and ready.
#pragma once

#include "tests/unit/engine/engine_harness.hpp"
#include "tests/unit/engine/simulated_agent.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace openbatch::testing {

class EngineTest : public ::testing::Test {
 protected:
  // A pool of `nodes` ready nodes with `slots` task slots each, and a job on it.
  void pool_with_nodes(int nodes, int slots = 1, const nlohmann::json& pool_extra = {}) {
    token = h.add_pool(kPool, nodes, slots,
                       pool_extra.is_null() ? nlohmann::json::object() : pool_extra);
    ASSERT_FALSE(token.empty());
    for (int i = 0; i < nodes; ++i) add_node();
  }
  SimulatedAgent& add_node() {
    agents.push_back(
        std::make_unique<SimulatedAgent>(h, kPool, "host-" + std::to_string(agents.size())));
    EXPECT_TRUE(agents.back()->join_and_ready(token));
    return *agents.back();
  }
  // The agent of a node.
  SimulatedAgent* agent_of(const std::string& node_id) {
    for (auto& a : agents) {
      if (a->node_id() == node_id) return a.get();
    }
    return nullptr;
  }
  // The node the stored task runs on ("" when none).
  std::string node_of(const std::string& job_id, const std::string& task_id) {
    auto t = h.task(job_id, task_id);
    if (!t || !t->contains("nodeInfo")) return "";
    return (*t)["nodeInfo"].value("nodeId", "");
  }
  // The attempt currently dispatched for the task ("" when none).
  std::string attempt_of(const std::string& job_id, const std::string& task_id) {
    auto t = h.task(job_id, task_id);
    if (!t || !t->contains("openbatch")) return "";
    return (*t)["openbatch"].value("attemptId", "");
  }
  nlohmann::json execution_info(const std::string& job_id, const std::string& task_id) {
    auto t = h.task(job_id, task_id);
    return t ? t->value("executionInfo", nlohmann::json::object()) : nlohmann::json::object();
  }
  // Every assignment any agent received, in no particular order.
  std::size_t total_assignments() {
    std::size_t n = 0;
    for (auto& a : agents) n += a->assignments().size();
    return n;
  }

  // Moves the clock by `total` in steps shorter than unknown_after, the nodes in `alive`
  // heartbeating after each step, so that only the others fall silent.
  void silence(std::chrono::seconds total, const std::vector<SimulatedAgent*>& alive) {
    const auto step = std::chrono::seconds(10);
    for (auto passed = std::chrono::seconds(0); passed < total; passed += step) {
      h.clock().advance(step);
      for (auto* a : alive) a->heartbeat();
      h.run_for(std::chrono::milliseconds(5));
    }
  }

  static constexpr const char* kPool = "pool";
  static constexpr const char* kJob = "job";
  EngineHarness h;
  std::string token;
  std::vector<std::unique_ptr<SimulatedAgent>> agents;
};

}  // namespace openbatch::testing
