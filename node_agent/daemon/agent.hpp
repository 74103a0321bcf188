// Agent: the node agent's protocol brain. It wires the link (frames in and out), the journal
// (what must survive a crash) and the runner (processes), all on one io_context thread, so
// nothing here takes a lock.
//
// Exactly-once (agent-protocol.md section 4), as this class applies it:
//   assignment  known id -> ack only. New id -> "accepted" record + runner.accept; after the
//               group flush: ack, then start (clone/exec). So an id is durable before it can run.
//   report      queued as a "report" record with a fresh seq; sent after the flush (when the
//               link is welcomed); deleted when the scheduler's ack arrives ("acked" record).
//   hello       lists the runner's attempts and the outbox (flushed first); reports beyond
//               hello's 4096-item bound follow as report frames with their original seqs.
//   started     the process's pid/pgid (for recovery's kill) and the scheduler's acks of
//   acked       reports gate nothing: appended without forcing a flush, they ride the next
//               one (GroupCommit::eventually), so a short task costs about one fdatasync
//               (accepted and report, each shared with the other tasks of the turn).
//   cancel      runner.cancel (unknown ids are fine), acked after the flush.
//   fileRequest answered at once from the node root (file_requests.hpp); neither journaled
//               nor acked. Reads are at most 2 MiB, short enough for the event loop.
//   acks        owed for one link only (the scheduler's seqs restart per link); those of a
//               dropped link are dropped, the scheduler reconciles with hello.
// Shutdown (SIGTERM/SIGINT): stop taking work, kill the attempts (SIGTERM, grace, SIGKILL),
// record them abandoned, flush, close the link with 1000, stop the io_context.
// A journal write failure is fatal (exit_code() 4): what was acked is durable and the next
// start recovers the rest.
//
// Thread-safety: none; the io_context's one thread.
#pragma once

#include "common/files/node_tree.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "node_agent/daemon/node_setup.hpp"
#include "node_agent/daemon/remote_launch.hpp"
#include "node_agent/exec/launcher.hpp"
#include "node_agent/link/websocket_link.hpp"
#include "node_agent/packages/package_installer.hpp"
#include "node_agent/remote/exec_listen.hpp"
#include "node_agent/runner/attempt_runner.hpp"
#include "node_agent/state/group_commit.hpp"
#include "node_agent/state/journal.hpp"
#include "node_agent/state/node_identity.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::agent::daemon {

inline constexpr const char* kAgentVersion = "0.1.0";
inline constexpr int kExitJournalFailed = 4;

struct AgentConfig {
  state::NodeIdentity identity;
  link::LinkOptions link;
  runner::RunnerOptions runner;
  nlohmann::json inventory = nlohmann::json::object();
  std::string boot_id;
  bool handle_signals = true;  // SIGTERM/SIGINT start shutdown(); tests call it directly
  // Node setup (node_setup.hpp): where packages come from ("http://host:port[/prefix]"), where
  // the setup's outcome is kept, and how the hardware is discovered again after the start task
  // (unset: the inventory above is kept).
  std::string scheduler_base_url;
  std::filesystem::path setup_state_file;
  std::function<nlohmann::json()> rediscover;
  // The remote-launch server for multi-instance tasks (remote_launch.hpp): where it may
  // listen (by default the node's address, as welcome gives it; off: none runs, and mpirun
  // cannot reach this node through `openbatch-agent rsh`), and the file that remembers the
  // pool's setting across restarts (empty: none). It runs only on inter-node pools.
  remote::ExecListen exec_listen;
  std::filesystem::path exec_state_file;
};

class Agent final : public link::LinkHandler, public runner::RunnerEvents {
 public:
  Agent(boost::asio::io_context& io, AgentConfig config, state::Journal& journal,
        exec::Launcher& launcher);
  ~Agent() override;
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Takes over an attempt the previous agent process left under its shim (before start()).
  void adopt(runner::AdoptedAttempt attempt) { runner_.adopt(std::move(attempt)); }
  // Connects (and keeps reconnecting); returns at once.
  void start();
  // The graceful stop described above; the io_context is stopped when it is done.
  void shutdown();
  int exit_code() const { return exit_code_; }

  // link::LinkHandler
  void on_connected() override;
  void on_frame(std::string_view frame) override;
  void on_disconnected(std::string_view why) override;

  // runner::RunnerEvents
  void attempt_started(const std::string& attempt_id, pid_t pid, pid_t pgid,
                       const std::string& start_time) override;
  void attempt_report(protocol::Report report) override;
  void attempt_ended(const std::string& attempt_id) override;

 private:
  void on_welcome(const protocol::Welcome& welcome);
  void on_assignment(std::uint64_t seq, protocol::Assignment assignment);
  void on_cancel(std::uint64_t seq, const protocol::Cancel& cancel);
  void on_ack(const protocol::Ack& ack);
  void on_file_request(const protocol::FileRequest& request);
  void on_inventory_found(nlohmann::json inventory);
  // Sends a frame on a welcomed link with a fresh seq; false when none is up.
  bool send(protocol::Payload payload);
  void send_with_seq(std::uint64_t seq, protocol::Payload payload);
  // An ack owed on link `generation` (the one the frame came on).
  void owe_ack(std::uint64_t generation, std::uint64_t seq);
  void send_acks();
  void heartbeat_loop();
  void fatal(const Error& error);
  bool welcomed() const { return welcomed_generation_ == link_.generation() && link_.connected(); }

  boost::asio::io_context& io_;
  AgentConfig config_;
  state::Journal& journal_;
  state::GroupCommit commit_;
  packages::PackageInstaller installer_;
  runner::AttemptRunner runner_;
  link::WebSocketLink link_;
  NodeSetup setup_;
  RemoteLaunch remote_launch_;
  boost::asio::steady_timer heartbeat_timer_;
  std::optional<boost::asio::signal_set> signals_;
  std::string inventory_hash_;
  files::NodeTree node_files_;             // the node root, for fileRequest
  std::uint64_t welcomed_generation_ = 0;  // the link generation that got welcome; 0: none
  std::chrono::seconds heartbeat_interval_{10};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> owed_acks_;  // (generation, seq)
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace openbatch::agent::daemon
