// NodeSetup: what a node does before it takes tasks, as welcome's nodeSetup asks
// (architecture.md "Node agent" 3-4, batch-api.md section 12), and the nodeStatus it answers:
//
//   starting             the pool's application packages install (download once, verify the
//                        SHA-256, extract safely); a failure -> unusable, the reason in errors
//   waitingforstarttask  the start task runs (waitForSuccess, Azure's default); retried up to
//                        maxTaskRetryCount after a nonzero exit; its last failure ->
//                        starttaskfailed. With waitForSuccess=false the node is ready at once
//                        and a failure only shows in startTaskInfo.
//   driver check         after the start task the hardware is discovered again (a driver may
//                        just have been installed); a pinned gpuDriverVersion that differs from
//                        the driver found -> unusable, "driver X found, pool requires Y"
//   ready                the node takes tasks (idle/running on the API)
//
// The setup runs once per boot of the node and again when the scheduler's generation grows
// (a reboot through the API); its outcome is kept in setup.json in the state directory, so an
// agent restart neither repeats a finished setup nor forgets its result. A setup cut short by
// a restart runs again (start tasks are idempotent, as Azure requires).
//
// Start-task attempts run through the AttemptRunner (AttemptKind::StartTask, ids
// "starttask:<generation>:<try>") and their reports come here instead of the scheduler.
// Thread-safety: none; the agent's io_context thread. Blocking steps (package installs,
// rediscovery) run on `worker` and post back.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "node_agent/packages/package_installer.hpp"
#include "node_agent/runner/attempt_runner.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace openbatch::agent::daemon {

struct NodeSetupHooks {
  // Sends a nodeStatus frame (dropped when no link is up: the next welcome asks again).
  std::function<void(protocol::NodeStatus)> send_status;
  // Discovers the node's inventory again. Blocking; called on the worker.
  std::function<nlohmann::json()> rediscover;
  // The inventory after the start task, on the event loop (the agent sends it when it changed).
  std::function<void(nlohmann::json)> inventory_found;
};

// The driver check as a pure decision: the ComputeNodeError for a node whose inventory does not
// carry the pinned driver version, or nullopt when it does (or nothing is pinned).
std::optional<nlohmann::json> driver_mismatch(const std::optional<std::string>& pinned,
                                              const nlohmann::json& inventory);

class NodeSetup {
 public:
  NodeSetup(boost::asio::io_context& io, runner::AttemptRunner& runner,
            const packages::PackageInstaller& installer, std::string node_token,
            std::filesystem::path state_file, std::string boot_id, NodeSetupHooks hooks);
  ~NodeSetup();
  NodeSetup(const NodeSetup&) = delete;
  NodeSetup& operator=(const NodeSetup&) = delete;

  // A welcome came: start the setup it describes, or report the one done or under way.
  void on_welcome(const std::optional<protocol::NodeSetup>& setup);
  static bool owns(const std::string& attempt_id) { return attempt_id.starts_with("starttask:"); }
  void on_report(const protocol::Report& report);

  const protocol::NodeStatus& status() const { return status_; }

 private:
  void begin(protocol::NodeSetup setup);
  void packages_installed(const Status& status);
  void start_attempt();
  void check_driver();
  void finish(protocol::SetupState state, nlohmann::json errors);
  void publish();  // persist + send
  void persist(bool complete);
  void use_pool_packages();

  boost::asio::io_context& io_;
  runner::AttemptRunner& runner_;
  const packages::PackageInstaller& installer_;
  std::string node_token_;
  std::filesystem::path state_file_;
  std::string boot_id_;
  NodeSetupHooks hooks_;
  protocol::NodeSetup setup_;
  protocol::NodeStatus status_;
  bool running_ = false;
  bool start_task_failed_ = false;
  int try_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::thread_pool worker_{1};  // last: joined first on destruction
};

}  // namespace openbatch::agent::daemon
