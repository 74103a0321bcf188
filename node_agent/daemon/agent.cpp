// Agent: protocol handling over link, journal and runner (see agent.hpp).
#include "node_agent/daemon/agent.hpp"

#include "node_agent/daemon/file_requests.hpp"
#include "node_agent/link/inventory_hash.hpp"
#include "node_agent/packages/http_fetcher.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <signal.h>

namespace openbatch::agent::daemon {

namespace asio = boost::asio;
using protocol::Message;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// The runner installs a task's packages with the same installer the node setup uses.
runner::RunnerOptions with_package_installer(runner::RunnerOptions options,
                                             const packages::PackageInstaller& installer,
                                             std::string node_token) {
  options.install_packages = [&installer, token = std::move(node_token)](
                                 const std::vector<protocol::PackageRef>& packages) -> Status {
    for (const auto& p : packages) {
      if (auto installed = installer.install(p, token); !installed) return installed.error();
    }
    return {};
  };
  return options;
}

}  // namespace

Agent::Agent(asio::io_context& io, AgentConfig config, state::Journal& journal,
             exec::Launcher& launcher)
    : io_(io),
      config_(std::move(config)),
      journal_(journal),
      commit_(
          io.get_executor(), journal, [this](const Error& e) { fatal(e); },
          [this] { send_acks(); }),
      installer_(config_.runner.facts.node_root, config_.scheduler_base_url,
                 packages::HttpFetcher()),
      runner_(io, launcher,
              with_package_installer(config_.runner, installer_, config_.identity.node_token),
              *this),
      link_(io, config_.link, *this),
      setup_(io, runner_, installer_, config_.identity.node_token, config_.setup_state_file,
             config_.boot_id,
             NodeSetupHooks{
                 [this](protocol::NodeStatus status) {
                   // A server started by this welcome is announced here.
                   status.exec_port = remote_launch_.port();
                   send(std::move(status));
                 },
                 config_.rediscover,
                 [this](nlohmann::json inventory) { on_inventory_found(std::move(inventory)); }}),
      // A peer's launcher may run a command only as a running instance of its task on this
      // node, with that instance's token (AttemptRunner::instance_for).
      remote_launch_(
          io, launcher,
          [this](const remote::ExecRequest& request) -> Result<remote::ExecTarget> {
            auto instance = runner_.instance_for(request.job_id, request.task_id, request.token);
            if (!instance) return instance.error();
            return remote::ExecTarget{instance->attempt_id,
                                      std::move(instance->env),
                                      std::move(instance->cwd),
                                      instance->uid,
                                      instance->gid,
                                      std::move(instance->groups)};
          },
          config_.exec_listen, config_.runner.kill_grace, config_.exec_state_file),
      heartbeat_timer_(io),
      inventory_hash_(link::inventory_hash(config_.inventory)),
      node_files_(config_.runner.facts.node_root) {
  runner_.set_foreign_child_handler(
      [this](pid_t pid, int status) { remote_launch_.on_child_exit(pid, status); });
}

Agent::~Agent() = default;

void Agent::start() {
  if (config_.handle_signals) {
    signals_.emplace(io_, SIGTERM, SIGINT);
    signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("agent: signal {}, shutting down", signal);
      shutdown();
    });
  }
  // Up before hello when an earlier welcome said the pool has inter-node communication.
  remote_launch_.start_remembered();
  link_.start();
}

void Agent::fatal(const Error& error) {
  spdlog::critical("agent: journal failure, exiting: {}", error.message);
  exit_code_ = kExitJournalFailed;
  io_.stop();
}

// --- link events -------------------------------------------------------------------------

void Agent::on_connected() {
  welcomed_generation_ = 0;
  // hello lists the outbox, which must be durable before it is sent.
  commit_.flush_now();
  if (exit_code_ != 0) return;
  protocol::Hello hello;
  hello.agent_version = kAgentVersion;
  hello.node_id = config_.identity.node_id;
  hello.inventory_hash = inventory_hash_;
  hello.exec_port = remote_launch_.port();
  hello.running_attempts = runner_.running_attempts();
  if (hello.running_attempts.size() > protocol::kMaxArrayItems) {
    hello.running_attempts.resize(protocol::kMaxArrayItems);
  }
  for (const auto& [seq, report] : journal_.state().outbox) {
    if (hello.unacked_reports.size() >= protocol::kMaxArrayItems) break;
    hello.unacked_reports.push_back({seq, report});
  }
  auto seq = journal_.take_seq();
  if (!seq) return fatal(seq.error());
  link_.send(protocol::encode(Message{*seq, std::move(hello)}));
}

void Agent::on_disconnected(std::string_view why) {
  welcomed_generation_ = 0;
  heartbeat_timer_.cancel();
}

void Agent::on_frame(std::string_view frame) {
  Result<Message> message = protocol::decode(frame);
  if (!message) {
    const std::string why =
        message.error().detail("PropertyName") + " " + message.error().detail("Reason");
    spdlog::warn("link: invalid frame from the scheduler: {}", why);
    link_.fail_connection(why.substr(0, 120));  // a close reason is at most 123 bytes
    return;
  }
  const std::uint64_t seq = message->seq;
  std::visit(Overloaded{
                 [&](protocol::Welcome& w) { on_welcome(w); },
                 [&](protocol::Assignment& a) { on_assignment(seq, std::move(a)); },
                 [&](protocol::Cancel& c) { on_cancel(seq, c); },
                 [&](protocol::Ack& a) { on_ack(a); },
                 [&](protocol::FileRequest& r) { on_file_request(r); },
                 [&](protocol::StartApplication& r) { runner_.start_application(r.attempt_id); },
                 [&](auto& other) {
                   spdlog::warn("link: ignoring a '{}' frame from the scheduler",
                                protocol::type_name(protocol::Payload(other)));
                 },
             },
             message->payload);
}

void Agent::on_welcome(const protocol::Welcome& welcome) {
  if (welcome.node_id != config_.identity.node_id) {
    spdlog::warn("link: welcome names node {}, this node is {}", welcome.node_id,
                 config_.identity.node_id);
  }
  welcomed_generation_ = link_.generation();
  link_.connection_healthy();
  runner::NodeFacts& facts = runner_.facts();
  if (welcome.pool_id) facts.pool_id = *welcome.pool_id;
  if (welcome.account_name) facts.account_name = *welcome.account_name;
  if (welcome.account_url) facts.account_url = *welcome.account_url;
  heartbeat_interval_ = std::chrono::seconds(std::max(1, welcome.heartbeat_interval_seconds));
  spdlog::info("link: welcomed as {} (heartbeat {} s, {} unacked reports)",
               config_.identity.node_id, heartbeat_interval_.count(),
               journal_.state().outbox.size());
  if (welcome.inventory_wanted) {
    send(protocol::InventoryUpdate{inventory_hash_, config_.inventory});
  }
  // hello carried at most kMaxArrayItems reports; the rest follow with their own seqs.
  std::size_t index = 0;
  for (const auto& [seq, report] : journal_.state().outbox) {
    if (index++ >= protocol::kMaxArrayItems) send_with_seq(seq, report);
  }
  heartbeat_loop();
  // Before the node setup answers with nodeStatus, which announces a server started here.
  remote_launch_.on_welcome(welcome.inter_node_communication, welcome.node_address);
  setup_.on_welcome(welcome.node_setup);
}

void Agent::on_inventory_found(nlohmann::json inventory) {
  const std::string hash = link::inventory_hash(inventory);
  if (hash == inventory_hash_) return;
  spdlog::info("agent: the inventory changed after the node setup; sending it");
  config_.inventory = std::move(inventory);
  inventory_hash_ = hash;
  send(protocol::InventoryUpdate{inventory_hash_, config_.inventory});
}

void Agent::on_assignment(std::uint64_t seq, protocol::Assignment assignment) {
  if (stopping_) return;  // not recorded, not acked: the scheduler requeues it after hello
  const std::string id = assignment.attempt_id;
  if (journal_.state().knows(id) || runner_.has(id)) {
    commit_.after_durable([this, g = link_.generation(), seq] { owe_ack(g, seq); });
    return;
  }
  journal_.append(
      state::AcceptedRecord{id, assignment.job_id, assignment.task_id, assignment.required_slots});
  runner_.accept(std::move(assignment));
  commit_.after_durable([this, g = link_.generation(), seq, id] {
    owe_ack(g, seq);
    // Posted, so that the batch's ack frame goes out before this batch's forks.
    asio::post(io_, [this, id] { runner_.start(id); });
  });
}

void Agent::on_cancel(std::uint64_t seq, const protocol::Cancel& cancel) {
  if (!runner_.cancel(cancel.attempt_id, cancel.reason)) {
    spdlog::debug("cancel for attempt {} that is not running here: ignored", cancel.attempt_id);
  }
  commit_.after_durable([this, g = link_.generation(), seq] { owe_ack(g, seq); });
}

void Agent::on_ack(const protocol::Ack& ack) {
  state::AckedRecord record;
  for (std::uint64_t seq : ack.seqs) {
    if (journal_.state().outbox.contains(seq)) record.seqs.push_back(seq);
  }
  if (record.seqs.empty()) return;
  journal_.append(record);
  // Gates nothing (losing it resends a report, which the scheduler applies once): it rides
  // the next flush instead of forcing one.
  commit_.eventually();
}

void Agent::on_file_request(const protocol::FileRequest& request) {
  if (!send(answer_file_request(node_files_, request))) {
    spdlog::debug("file request {}: the link went down before the answer", request.request_id);
  }
}

// --- runner events -----------------------------------------------------------------------

void Agent::attempt_started(const std::string& attempt_id, pid_t pid, pid_t pgid,
                            const std::string& start_time) {
  if (NodeSetup::owns(attempt_id)) return;  // the start task is not the scheduler's attempt
  journal_.append(state::StartedRecord{attempt_id, pid, pgid, start_time, config_.boot_id});
  // Gates nothing: the process already runs. It rides the next flush (typically the report's
  // when the task is short), within GroupCommit's lazy delay at the latest.
  commit_.eventually();
}

void Agent::attempt_report(protocol::Report report) {
  if (NodeSetup::owns(report.attempt_id)) return setup_.on_report(report);
  auto seq = journal_.take_seq();
  if (!seq) return fatal(seq.error());
  journal_.append(state::ReportRecord{*seq, report});
  commit_.after_durable([this, s = *seq, r = std::move(report)]() mutable {
    // The journal holds the attempt's result now: its shim's status is no longer needed.
    if (r.state == protocol::AttemptState::Completed && config_.runner.shim) {
      if (auto name = shim::escape_attempt_id(r.attempt_id))
        shim::remove_attempt_dir(config_.runner.shim->dir / *name);
    }
    send_with_seq(s, std::move(r));
  });
}

void Agent::attempt_ended(const std::string& attempt_id) { remote_launch_.end_attempt(attempt_id); }

// --- sending -----------------------------------------------------------------------------

bool Agent::send(protocol::Payload payload) {
  if (!welcomed()) return false;
  auto seq = journal_.take_seq();
  if (!seq) {
    fatal(seq.error());
    return false;
  }
  link_.send(protocol::encode(Message{*seq, std::move(payload)}));
  return true;
}

void Agent::send_with_seq(std::uint64_t seq, protocol::Payload payload) {
  if (welcomed()) link_.send(protocol::encode(Message{seq, std::move(payload)}));
}

void Agent::owe_ack(std::uint64_t generation, std::uint64_t seq) {
  owed_acks_.emplace_back(generation, seq);
}

void Agent::send_acks() {
  if (owed_acks_.empty()) return;
  protocol::Ack ack;
  for (const auto& [generation, seq] : owed_acks_) {
    if (generation == link_.generation()) ack.seqs.push_back(seq);
  }
  owed_acks_.clear();
  // The protocol bounds arrays: a very large batch goes out as several ack frames.
  for (std::size_t i = 0; i < ack.seqs.size(); i += protocol::kMaxArrayItems) {
    const auto end = std::min(ack.seqs.size(), i + protocol::kMaxArrayItems);
    send(protocol::Ack{{ack.seqs.begin() + static_cast<std::ptrdiff_t>(i),
                        ack.seqs.begin() + static_cast<std::ptrdiff_t>(end)}});
  }
}

void Agent::heartbeat_loop() {
  heartbeat_timer_.expires_after(heartbeat_interval_);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !welcomed() || stopping_) return;
    send(protocol::Heartbeat{runner_.attempt_count(), runner_.used_slots()});
    heartbeat_loop();
  });
}

// --- shutdown ----------------------------------------------------------------------------

void Agent::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  heartbeat_timer_.cancel();
  if (signals_) signals_->cancel();
  remote_launch_.stop();
  runner_.stop_all([this](std::vector<std::string> abandoned) {
    for (const auto& id : abandoned) {
      if (!NodeSetup::owns(id)) journal_.append(state::AbandonedRecord{id});
    }
    commit_.flush_now();
    if (exit_code_ != 0) return;
    spdlog::info("agent: {} attempts abandoned for the scheduler to requeue; closing the link",
                 abandoned.size());
    link_.close([this] {
      commit_.flush_now();  // acks that arrived while the link closed
      io_.stop();
    });
  });
}

}  // namespace openbatch::agent::daemon
