#include "tests/unit/engine/simulated_agent.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace openbatch::testing {

using nlohmann::json;

namespace {

// Each agent its own address, as the pool's nodes have (a gang's hostList names them).
std::string next_address() {
  static std::atomic<int> next{1};
  return "10.0.0." + std::to_string(next++);
}

}  // namespace

SimulatedAgent::SimulatedAgent(EngineHarness& harness, std::string pool_id, std::string hostname)
    : harness_(harness), pool_id_(std::move(pool_id)), hostname_(std::move(hostname)) {}

Result<nodes::JoinAnswer> SimulatedAgent::try_join(const std::string& token) {
  std::optional<Result<nodes::JoinAnswer>> answer;
  const std::string address = next_address();
  nodes::JoinRequest request{
      pool_id_, token, hostname_, address,
      json{{"hostname", hostname_},
           {"addresses", json::array({{{"address", address}, {"family", "inet"}}})}}};
  harness_.engine().join(std::move(request),
                         [&answer](Result<nodes::JoinAnswer> a) { answer = std::move(a); });
  if (!harness_.run_until([&] { return answer.has_value(); }))
    return Error(500, "Timeout", "no join answer");
  if (*answer) {
    node_id_ = (*answer)->node_id;
    node_token_ = (*answer)->node_token;
  }
  return *answer;
}

bool SimulatedAgent::join_and_ready(const std::string& token) {
  auto joined = try_join(token);
  if (!joined) {
    ADD_FAILURE() << "join: " << joined.error().message;
    return false;
  }
  open_link();
  hello();
  if (!wait_welcome()) return false;
  node_status(protocol::SetupState::Ready);
  // Idle -- or running already, when a task was waiting for it.
  return harness_.run_until([&] {
    const std::string state = harness_.node_state(pool_id_, node_id_);
    return state == "idle" || state == "running";
  });
}

void SimulatedAgent::open_link() {
  if (link_) old_links_.push_back(link_);
  link_ = std::make_shared<FakeAgentChannel>(node_id_);
  harness_.engine().on_link_opened(link_, node_id_);
}

void SimulatedAgent::close_link() { harness_.engine().on_link_closed(link_); }

void SimulatedAgent::hello(std::vector<protocol::RunningAttempt> running,
                           std::vector<protocol::PendingReport> unacked) {
  protocol::Hello h;
  h.agent_version = "simulated";
  h.node_id = node_id_;
  h.inventory_hash = inventory_hash_;
  h.running_attempts = std::move(running);
  h.unacked_reports = std::move(unacked);
  send(std::move(h));
}

bool SimulatedAgent::wait_welcome() {
  return harness_.run_until([&] { return !link_->sent<protocol::Welcome>().empty(); });
}

void SimulatedAgent::node_status(protocol::SetupState state) {
  protocol::NodeStatus status;
  status.generation = 1;
  status.state = state;
  send(std::move(status));
}

void SimulatedAgent::heartbeat() { send(protocol::Heartbeat{0, 0}); }

std::uint64_t SimulatedAgent::inventory(const json& inventory, const std::string& hash) {
  inventory_hash_ = hash;
  return send(protocol::InventoryUpdate{hash, inventory});
}

std::uint64_t SimulatedAgent::report_running(const std::string& attempt_id) {
  protocol::Report report;
  report.attempt_id = attempt_id;
  report.state = protocol::AttemptState::Running;
  report.start_time = format_iso8601(harness_.clock().now());
  return send(std::move(report));
}

protocol::Report SimulatedAgent::completed_report(const std::string& attempt_id, int exit_code) {
  protocol::Report report;
  report.attempt_id = attempt_id;
  report.state = protocol::AttemptState::Completed;
  report.exit_code = exit_code;
  report.start_time = "2023-11-14T22:13:20.000Z";
  report.end_time = "2023-11-14T22:13:21.000Z";
  report.result = exit_code == 0 ? protocol::TaskResult::Success : protocol::TaskResult::Failure;
  if (exit_code != 0) {
    report.failure_info =
        protocol::FailureInfo{protocol::ErrorCategory::UserError, "FailureExitCode",
                              "The task exited with an exit code representing "
                              "a failure"};
  }
  return report;
}

std::uint64_t SimulatedAgent::report_completed(const std::string& attempt_id, int exit_code) {
  return send(completed_report(attempt_id, exit_code));
}

std::uint64_t SimulatedAgent::report_coordinated(const std::string& attempt_id) {
  protocol::Report report;
  report.attempt_id = attempt_id;
  report.state = protocol::AttemptState::Running;
  report.coordinated = true;
  return send(std::move(report));
}

std::uint64_t SimulatedAgent::send(protocol::Payload payload) {
  const std::uint64_t seq = next_seq_++;
  send_with_seq(seq, std::move(payload));
  return seq;
}

void SimulatedAgent::send_with_seq(std::uint64_t seq, protocol::Payload payload) {
  harness_.engine().on_frame(link_, protocol::encode(protocol::Message{seq, std::move(payload)}));
}

std::optional<protocol::Assignment> SimulatedAgent::wait_assignment(std::size_t n) {
  std::optional<protocol::Assignment> found;
  harness_.run_until([&] {
    auto all = link_->sent<protocol::Assignment>();
    if (all.size() >= n) found = all[n - 1];
    return found.has_value();
  });
  return found;
}

bool SimulatedAgent::wait_cancel(const std::string& attempt_id) {
  return harness_.run_until([&] {
    for (const auto& c : link_->sent<protocol::Cancel>()) {
      if (c.attempt_id == attempt_id) return true;
    }
    return false;
  });
}

bool SimulatedAgent::wait_acked(std::uint64_t seq) {
  return harness_.run_until([&] {
    for (const auto& a : link_->sent<protocol::Ack>()) {
      for (auto s : a.seqs) {
        if (s == seq) return true;
      }
    }
    return false;
  });
}

std::vector<protocol::Assignment> SimulatedAgent::assignments() const {
  std::vector<protocol::Assignment> all;
  for (const auto& l : old_links_) {
    for (auto& a : l->sent<protocol::Assignment>()) all.push_back(std::move(a));
  }
  if (link_) {
    for (auto& a : link_->sent<protocol::Assignment>()) all.push_back(std::move(a));
  }
  return all;
}

}  // namespace openbatch::testing
