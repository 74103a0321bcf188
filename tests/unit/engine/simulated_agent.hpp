// SimulatedAgent: a node agent reduced to its protocol, for engine tests. It joins a static
// pool (Engine::join with the pool's join token), opens links (FakeAgentChannel), says hello
// (with the attempts it runs and the reports it has not seen acked), reports its setup
// state, heartbeats, and reports attempts -- running, completed, coordinated -- with its own
// frame seq, as the real agent does. What the engine sent back is read from the link.
#pragma once

#include "tests/unit/engine/engine_harness.hpp"
#include "tests/unit/engine/fake_agent_channel.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace openbatch::testing {

class SimulatedAgent {
 public:
  SimulatedAgent(EngineHarness& harness, std::string pool_id, std::string hostname = "host");

  // Engine::join with `token`; the answer (a node id and token) or the engine's error.
  Result<nodes::JoinAnswer> try_join(const std::string& token);
  // Joins (asserting success), links, says hello and reports "ready": the node takes tasks.
  // Returns false when any step did not happen in time.
  bool join_and_ready(const std::string& token);

  // A new link (the previous one, if any, is just forgotten: see close_link()).
  void open_link();
  // The transport saw the current link end.
  void close_link();
  // hello with what the agent runs now and the reports it still holds unacked.
  void hello(std::vector<protocol::RunningAttempt> running = {},
             std::vector<protocol::PendingReport> unacked = {});
  // Runs until the current link got its welcome.
  bool wait_welcome();
  void node_status(protocol::SetupState state);
  void heartbeat();
  // Sends an inventory update (and says `hash` in its later hellos); returns its seq.
  std::uint64_t inventory(const nlohmann::json& inventory, const std::string& hash);
  // Sends a report and returns its seq.
  std::uint64_t report_running(const std::string& attempt_id);
  std::uint64_t report_completed(const std::string& attempt_id, int exit_code);
  std::uint64_t report_coordinated(const std::string& attempt_id);
  // Sends any frame (seq assigned here).
  std::uint64_t send(protocol::Payload payload);
  // Sends a frame with a given seq (a resend).
  void send_with_seq(std::uint64_t seq, protocol::Payload payload);
  // A report as the agent builds it: completed, with its end time and result.
  static protocol::Report completed_report(const std::string& attempt_id, int exit_code);

  // Waits for the n-th assignment on the current link (1-based) and returns it.
  std::optional<protocol::Assignment> wait_assignment(std::size_t n = 1);
  bool wait_cancel(const std::string& attempt_id);
  bool wait_acked(std::uint64_t seq);

  FakeAgentChannel& link() { return *link_; }
  std::shared_ptr<FakeAgentChannel> link_ptr() { return link_; }
  const std::string& node_id() const { return node_id_; }
  const std::string& node_token() const { return node_token_; }
  const std::string& pool_id() const { return pool_id_; }
  // Assignments received on every link so far.
  std::vector<protocol::Assignment> assignments() const;

 private:
  EngineHarness& harness_;
  std::string pool_id_;
  std::string hostname_;
  std::string node_id_;
  std::string node_token_;
  std::shared_ptr<FakeAgentChannel> link_;
  std::vector<std::shared_ptr<FakeAgentChannel>> old_links_;
  std::string inventory_hash_ = "inventory-1";
  std::uint64_t next_seq_ = 1;
};

}  // namespace openbatch::testing
