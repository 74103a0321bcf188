// Engine: the scheduler's live half. It keeps the in-memory model of pools, jobs, pending
// tasks and nodes (engine_state.hpp), places tasks on nodes with placement::place(), commits
// each round's dispatches in one store transaction that re-checks every node's capacity, sends
// assignments over the agents' links, applies their reports exactly once, tracks liveness
// (unknown -> offline -> requeue), removes leaving nodes, and asks the local provisioner for
// agents.
//
// Everything runs on one strand: no locks, and no blocking I/O on it except short indexed
// store reads. Store writes go through the group-commit writer; their results come back to the
// strand. The change feed (store::ChangeObserver) keeps the model current with what the API
// routes and the lifecycle sweeper commit.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/attempt_writes.hpp"
#include "scheduler/nodes/engine_state.hpp"
#include "scheduler/nodes/local_agents.hpp"
#include "scheduler/nodes/pool_membership.hpp"
#include "scheduler/placement/place.hpp"
#include "scheduler/store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace openbatch::nodes {

struct EngineConfig {
  std::string account_name;
  std::string account_url;                    // base URL of entity urls
  std::string default_provisioner = "local";  // for pools without openbatch.provisioner metadata
  int heartbeat_interval_seconds = 10;
  int unknown_after_heartbeats = 3;  // no frame for this many intervals -> unknown
  int offline_after_heartbeats = 6;  // ... and this many -> offline, attempts requeued
  std::size_t max_dispatch_per_round = 2048;
  // A fileRequest unanswered this long fails with 504 OperationTimedOut.
  std::chrono::milliseconds file_request_timeout = std::chrono::seconds(30);
};

struct JoinRequest {
  std::string pool_id;
  std::string token;
  std::string hostname;
  std::string peer_address;
  nlohmann::json inventory;
};

struct JoinAnswer {
  std::string node_id;
  std::string node_token;
  std::string pool_id;
  int heartbeat_interval_seconds = 10;
};

class Engine final : public AgentChannelEvents {
 public:
  using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;

  Engine(boost::asio::io_context& ioc, store::Store& store, const Clock& clock, EngineConfig config,
         std::function<std::string()> next_etag, std::unique_ptr<LocalAgents> local_agents);
  ~Engine();

  // Loads the model from the store, installs the change feed and starts the timers.
  void start();
  // Stops placing and timers (thread-safe; posts). For the start of a graceful shutdown.
  void quiesce();
  // Final stop, once the io_context has stopped: drops links and, when `stop_agents`, stops
  // the local agents (SIGTERM, bounded wait). Agents left running are adopted by the next start.
  void stop(bool stop_agents);

  // Joins a node to a pool (static provisioning): checks the pool's join token, creates the
  // node and its token. `done` runs on the strand.
  void join(JoinRequest request, std::function<void(Result<JoinAnswer>)> done);

  // A link passed authentication for `node_id`. Frames and the close come back through
  // on_frame / on_link_closed. Thread-safe (posts to the strand).
  void on_link_opened(std::shared_ptr<AgentChannel> link, std::string node_id) override;
  void on_frame(std::shared_ptr<AgentChannel> link, std::string text) override;
  void on_link_closed(std::shared_ptr<AgentChannel> link) override;

  // Node files (engine_files.cpp, agent-protocol.md 3.9): sends one fileRequest to the node's
  // agent, minting its requestId, and calls `done` on the strand with the agent's answer; or
  // with 409 NodeNotReachable when the node has no link now or its link closes first, or 504
  // OperationTimedOut after config.file_request_timeout. Thread-safe (posts to the strand).
  using FileAnswer = std::function<void(protocol::FileResponse)>;
  void file_request(std::string node_id, protocol::FileRequest request, FileAnswer done);

  // The node a node token belongs to (reads the store; call off the strand). nullopt when the
  // token is unknown or wrong.
  std::optional<std::string> authenticate_node(std::string_view token);
  // Whether node `node_id` may download the package blob `digest`: one of its pool's or of
  // the tasks dispatched to it (package_access.hpp; reads the store; call off the strand).
  bool node_may_download(const std::string& node_id, std::string_view digest);

  Executor& executor() { return strand_; }
  const EngineConfig& config() const { return config_; }

 private:
  // engine.cpp: model loading and the change feed.
  void load();
  void apply_changes(std::vector<store::Change> changes);
  void apply_pool(const store::Record& record);
  void apply_job(const store::Record& record);
  void apply_task(const store::Record& record);
  void apply_node(const store::Record& record);
  void erase_pool(const std::string& id);
  void erase_job(const std::string& id);
  void erase_task(const std::string& job_id, const std::string& task_id);
  void erase_tasks_of_job(const std::string& job_id);
  void add_pending(JobInfo& job, PendingItem item);
  // Drops a finished attempt from the model once its commit is durable (it is off its node and
  // its task moved on in the store): slots, job counts, and the task back in the queue when
  // the commit made it active again (`task.changed`).
  void forget_attempt(const std::string& attempt_id, const AttemptInfo& info,
                      const RequeuedTask& task);
  // add_pending for a task our own commit moved back to active, unless it runs again already.
  void readd_pending(JobInfo& job, PendingItem item);
  void remove_pending(const std::string& job_id, const std::string& task_id);
  void queue_job(JobInfo& job);
  void unqueue_job(JobInfo& job);
  void cancel_attempts_of_job(const std::string& job_id, protocol::CancelReason reason);
  void cancel_attempt(const std::string& attempt_id, protocol::CancelReason reason);
  void maybe_finish_job(const std::string& job_key);

  // engine_dispatch.cpp: placement rounds.
  void schedule_round();
  void run_round();
  struct Dispatch;
  void commit_dispatches(std::vector<Dispatch> dispatches);
  struct PendingReasonWrite {
    std::string job_id, task_id, code, message;
  };
  void note_pending_reasons(const std::vector<placement::PendingReport>& pending,
                            const std::vector<std::pair<std::string, int64_t>>& refs,
                            std::vector<PendingReasonWrite>& writes);
  void write_pending_reasons(std::vector<PendingReasonWrite> writes);

  // engine_gangs.cpp: multi-instance tasks -- coordination, the primary's start, ending and
  // stopping the instances together (batch-api.md section 11).
  void adopt_instance(AttemptInfo& info, const std::string& attempt_id, int subtask_id);
  void load_gang_states(store::Reader& reader);
  void forget_instance(const AttemptInfo& info);
  // Cancels every instance of the gang still here, except `except`.
  void cancel_gang(const std::string& primary, protocol::CancelReason reason,
                   const std::string& except = {});
  // The gang's task has its outcome (completed, retried, requeued): the instances still
  // running are stopped.
  void end_gang(const std::string& primary, protocol::CancelReason reason);
  // An instance's completion or requeue is being committed (it decides the task).
  bool gang_deciding(const std::string& primary) const;
  void handle_coordinated(NodeInfo& node, protocol::Report report, uint64_t seq);
  void maybe_start_application(GangInfo& gang);
  // After a hello: the primaries on this node that may run their application command.
  void resend_start_applications(NodeInfo& node);

  // engine_agents.cpp: links, frames, liveness, node removal.
  void handle_hello(const std::shared_ptr<AgentChannel>& link, NodeInfo& node,
                    protocol::Hello hello, uint64_t seq);
  // engine_reports.cpp: completion reports, batched per strand turn into one store op.
  void handle_report(NodeInfo& node, protocol::Report report, uint64_t seq);
  void flush_reports();
  void handle_inventory(NodeInfo& node, protocol::InventoryUpdate update, uint64_t seq);
  // engine_setup.cpp: what welcome asks the node to set up, and the agent's answers.
  protocol::NodeSetup node_setup_for(const NodeInfo& node);
  void handle_node_status(NodeInfo& node, protocol::NodeStatus status);
  void send(NodeInfo& node, protocol::Payload payload);
  void ack(NodeInfo& node, std::vector<uint64_t> seqs);
  // Moves the attempts' tasks back to active (requeueCount + 1) and off the node, in one op;
  // optionally sets the node's state and tells the agent to stop them.
  void requeue_attempts(const std::string& node_id, std::vector<std::string> attempt_ids,
                        std::optional<std::string> node_state,
                        std::optional<protocol::CancelReason> cancel);
  void write_node_state(const std::string& node_id, std::string state);
  void check_liveness();
  void tick();

  // engine_pools.cpp: node counts against targets, the local provisioner, leaving nodes.
  // reconcile_pools() takes every pool (the tick); an event marks its pool dirty instead, and
  // the dirty ones are reconciled once per strand turn (members_ keeps their counts).
  void reconcile_pools();
  void schedule_reconcile(const std::string& pool_key);
  void reconcile_dirty_pools();
  void reconcile_pool(const std::string& key, const PoolInfo& pool);
  void create_local_nodes(const PoolInfo& pool, int count);
  void remove_node(const std::string& node_id);
  void ensure_local_agent(const NodeInfo& node);
  std::string node_url(const std::string& pool_id, const std::string& node_id) const;

  // engine_files.cpp: answers of the agents to file requests.
  void handle_file_response(NodeInfo& node, protocol::FileResponse response);
  // Fails the requests sent on the link with this id (it closed).
  void fail_file_requests(std::uint64_t link_id);
  struct PendingFileRequest {
    std::string node_id;
    std::uint64_t link_id = 0;
    FileAnswer done;
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };

  NodeInfo* find_node(const std::string& id);
  JobInfo* find_job(const std::string& id);

  boost::asio::io_context& ioc_;
  Executor strand_;
  store::Store& store_;
  const Clock& clock_;
  EngineConfig config_;
  std::function<std::string()> next_etag_;
  std::unique_ptr<LocalAgents> local_agents_;
  boost::asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> last_liveness_scan_;  // its steady_now()
  bool stopped_ = false;
  bool loading_ = false;
  bool round_scheduled_ = false;
  bool reconcile_scheduled_ = false;
  bool reports_flush_scheduled_ = false;
  std::vector<QueuedReport> report_batch_;

  std::unordered_map<std::string, PoolInfo> pools_;               // by lowercased id
  std::unordered_map<std::string, JobInfo> jobs_;                 // by lowercased id
  std::unordered_map<std::string, std::set<QueueKey>> queues_;    // by lowercased pool id
  std::unordered_map<std::string, int64_t> pending_seq_;          // "job\ntask" (lowercased) -> seq
  std::unordered_map<std::string, NodeInfo> nodes_;               // by node id (ours: exact)
  std::unordered_map<std::string, AttemptInfo> attempts_;         // by attempt id
  std::unordered_map<std::string, std::string> attempt_of_task_;  // "job\ntask" -> attempt id
  std::unordered_map<std::string, GangInfo> gangs_;               // by the primary's attempt id
  std::set<std::string> creating_pools_;      // local pools with a node creation in flight
  std::set<std::string> identity_in_flight_;  // local nodes getting a fresh token
  std::set<std::string> removing_nodes_;      // node removals in flight
  std::unordered_map<std::string, int> joins_in_flight_;               // by lowercased pool id
  std::unordered_map<std::string, PendingFileRequest> file_requests_;  // by requestId
  std::uint64_t next_file_request_ = 1;
  // nodes_ not leaving, by lowercased pool id, and the pools to reconcile.
  PoolMembership members_;
};

// "job\ntask", lowercased: the engine's key of a task.
std::string task_key(std::string_view job_id, std::string_view task_id);

}  // namespace openbatch::nodes
