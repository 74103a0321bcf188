// EngineHarness: the scheduler's engine over a real SQLite store in a TempDir, with the real
// API router in front of the same store, a FakeClock, and an io_context the test drives. Pools,
// jobs and tasks are created through the router exactly as a client's POST creates them; the
// engine sees them through the store's change feed, as in the scheduler. Agents are
// SimulatedAgents (simulated_agent.hpp) speaking the protocol over FakeAgentChannels.
//
// Nothing here sleeps: run_until() runs the io_context until a condition holds or a bounded
// wait ends (the engine's own liveness tick is a 500 ms timer, hence waits of seconds).
#pragma once

#include "scheduler/api/router.hpp"
#include "scheduler/api/services.hpp"
#include "scheduler/catalog/catalog.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/store/store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace openbatch::testing {

struct ApiReply {
  int status = 0;
  nlohmann::json body;  // null when the reply had no JSON body
};

class EngineHarness {
 public:
  explicit EngineHarness(nodes::EngineConfig config = default_config());
  ~EngineHarness();
  EngineHarness(const EngineHarness&) = delete;
  EngineHarness& operator=(const EngineHarness&) = delete;

  static nodes::EngineConfig default_config();

  // Runs the io_context until `done` holds (true) or `timeout` passes (false).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Runs the io_context for `duration` (for "nothing happens" checks; never an assertion of
  // something happening).
  void run_for(std::chrono::milliseconds duration);

  // One request through the API router (no authentication), run to its reply.
  ApiReply call(const std::string& method, const std::string& path,
                const nlohmann::json& body = nullptr);

  // A static pool of `nodes` target nodes and `slots` task slots per node; returns its join
  // token. `extra` is merged into the POST body.
  std::string add_pool(const std::string& id, int nodes, int slots,
                       const nlohmann::json& extra = nlohmann::json::object());
  void add_job(const std::string& id, const std::string& pool_id,
               const nlohmann::json& extra = nlohmann::json::object());
  void add_task(const std::string& job_id, const std::string& task_id,
                const nlohmann::json& extra = nlohmann::json::object());

  // One pass of the lifecycle sweeper (pool allocation states, job completion), as the
  // scheduler runs it every 250 ms.
  void sweep();

  // Records as the store has them now (nullopt when absent).
  std::optional<nlohmann::json> task(const std::string& job_id, const std::string& task_id);
  std::optional<nlohmann::json> node(const std::string& pool_id, const std::string& node_id);
  std::optional<nlohmann::json> job(const std::string& job_id);
  std::string task_state(const std::string& job_id, const std::string& task_id);
  std::string node_state(const std::string& pool_id, const std::string& node_id);
  // Runs until the stored task / node is in `state`.
  bool wait_task_state(const std::string& job_id, const std::string& task_id,
                       const std::string& state,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool wait_node_state(const std::string& pool_id, const std::string& node_id,
                       const std::string& state,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // A scheduler restart: the engine stops (its links dropped), the store closes, and a new
  // store, router and engine open on the same database and rebuild from it.
  void restart();

  nodes::Engine& engine() { return *engine_; }
  store::Store& store() { return *store_; }
  FakeClock& clock() { return clock_; }
  boost::asio::io_context& io() { return *ioc_; }

 private:
  void open();
  void close();

  nodes::EngineConfig config_;
  TempDir dir_;
  FakeClock clock_;
  std::optional<catalog::Catalog> catalog_;
  std::unique_ptr<boost::asio::io_context> ioc_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<api::Services> services_;
  std::unique_ptr<api::Router> router_;
  std::unique_ptr<nodes::Engine> engine_;
};

}  // namespace openbatch::testing
