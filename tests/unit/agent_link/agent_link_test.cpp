// The whole agent (journal, runner, link) against an in-test scheduler: hello -> welcome ->
// assignment -> ack -> report -> ack; unacked reports come back in the next hello; an
// attempt id runs at most once, across reconnects and restarts; refused upgrades and bad
// frames are retried; cancel; shutdown abandons what runs.
#include "node_agent/daemon/agent.hpp"
#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/link/inventory_hash.hpp"
#include "node_agent/link/scheduler_url.hpp"
#include "node_agent/state/recovery.hpp"
#include "tests/support/temp_dir.hpp"

#include "fake_scheduler.hpp"
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace openbatch::agent::daemon {
namespace {

using namespace std::chrono_literals;
using openbatch::agent::testing::FakeScheduler;
using openbatch::testing::TempDir;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const nlohmann::json kInventory = {
    {"hostname", "node-1"}, {"cpus", {{"logicalCount", 2}}}, {"memoryBytes", 1 << 30}};

// One agent process, in a thread of this one; destroying it without stop() is a crash.
class RunningAgent {
 public:
  RunningAgent(const TempDir& root, const TempDir& state, unsigned short port) {
    auto journal = state::Journal::open(state.path() / "journal");
    EXPECT_TRUE(journal);
    journal_ = std::move(*journal);
    state::ProcProcessProbe probe;
    EXPECT_TRUE(state::recover(*journal_, probe));
    AgentConfig config;
    config.identity = {"tvmps_0001", "node-token-1", "pool1"};
    config.inventory = kInventory;
    config.boot_id = probe.boot_id();
    config.handle_signals = false;
    config.setup_state_file = state.path() / "setup.json";
    config.link.host = "127.0.0.1";
    config.link.port = std::to_string(port);
    config.link.token = "node-token-1";
    config.link.reconnect_min = 10ms;
    config.link.reconnect_max = 50ms;
    config.runner.facts.node_root = root.path();
    config.runner.facts.node_id = "tvmps_0001";
    config.runner.facts.pool_id = "pool1";
    config.runner.facts.run_as_agent_user = true;
    config.runner.facts.agent_user = "tester";
    config.runner.kill_grace = 200ms;
    config.runner.running_report_delay = 0ms;
    agent_ = std::make_unique<Agent>(io_, std::move(config), *journal_, launcher_);
    // The agent's SIGCHLD handler has no SA_RESTART (asio's), and the fake scheduler's blocking
    // reads poll(), which a signal always interrupts: only the agent's thread takes SIGCHLD.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &test_thread_mask_);
    thread_ = std::thread([this, chld] {
      pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
      agent_->start();
      io_.run();
    });
  }

  ~RunningAgent() {  // a crash: the loop stops wherever it is
    io_.stop();
    if (thread_.joinable()) thread_.join();
    pthread_sigmask(SIG_SETMASK, &test_thread_mask_, nullptr);
  }

  // Graceful shutdown while linked: returns the close code the scheduler saw.
  int stop(FakeScheduler& scheduler) {
    boost::asio::post(io_, [this] { agent_->shutdown(); });
    const int code = scheduler.wait_for_close();
    thread_.join();
    return code;
  }

  // After stop() or before: the journal as the agent left it (read on a fresh open).
  static state::JournalState journal_after(const TempDir& state) {
    auto j = state::Journal::open(state.path() / "journal");
    EXPECT_TRUE(j);
    return (*j)->state();
  }

  int exit_code() const { return agent_->exit_code(); }

 private:
  boost::asio::io_context io_;
  exec::PosixLauncher launcher_;
  std::unique_ptr<state::Journal> journal_;
  std::unique_ptr<Agent> agent_;
  sigset_t test_thread_mask_{};
  std::thread thread_;
};

protocol::Assignment shell(const std::string& id, const std::string& script) {
  protocol::Assignment a;
  a.attempt_id = id;
  a.job_id = "job1";
  a.task_id = id.substr(0, id.find(':'));
  a.command_line = "/bin/sh -c '" + script + "'";
  return a;
}

protocol::Welcome welcome(bool inventory_wanted = false) {
  protocol::Welcome w;
  w.node_id = "tvmps_0001";
  w.heartbeat_interval_seconds = 1;
  w.inventory_wanted = inventory_wanted;
  w.pool_id = "pool1";
  w.account_name = "acct";
  w.account_url = "http://scheduler.local";
  return w;
}

// Reads frames until the ack of `seq` and the completed report of `attempt` have both come;
// returns that report's seq and content.
std::pair<std::uint64_t, protocol::Report> ack_and_report(FakeScheduler& s, std::uint64_t seq,
                                                          const std::string& attempt) {
  bool acked = false;
  std::optional<std::pair<std::uint64_t, protocol::Report>> report;
  while (!acked || !report) {
    protocol::Message m = s.read();
    if (auto* ack = std::get_if<protocol::Ack>(&m.payload)) {
      if (std::find(ack->seqs.begin(), ack->seqs.end(), seq) != ack->seqs.end()) acked = true;
    } else if (auto* r = std::get_if<protocol::Report>(&m.payload)) {
      EXPECT_TRUE(acked) << "the assignment is acked before its report";
      if (r->attempt_id == attempt && r->state == protocol::AttemptState::Completed) {
        report.emplace(m.seq, *r);
      }
    } else if (m.seq == 0) {
      break;  // the read failed; already reported
    }
  }
  return report.value_or(std::pair<std::uint64_t, protocol::Report>{});
}

// Returns once the agent has processed (and made durable) every frame sent before: a cancel
// for an unknown attempt is acked only after the journal flush that follows it.
void sync(FakeScheduler& s) {
  const std::uint64_t seq =
      s.send(protocol::Cancel{"no-such:0:0", protocol::CancelReason::UnknownAttempt});
  while (true) {
    protocol::Message m = s.read();
    auto* ack = std::get_if<protocol::Ack>(&m.payload);
    if (m.seq == 0 ||
        (ack && std::find(ack->seqs.begin(), ack->seqs.end(), seq) != ack->seqs.end())) {
      return;
    }
  }
}

TEST(AgentLink, HelloWelcomeAssignmentAckReportAck) {
  TempDir root, state;
  FakeScheduler scheduler;
  RunningAgent agent(root, state, scheduler.port());
  EXPECT_EQ(scheduler.accept(), "Bearer node-token-1");
  auto [hello_seq, hello] = scheduler.read_as<protocol::Hello>();
  EXPECT_GE(hello_seq, 1u);
  EXPECT_EQ(hello.node_id, "tvmps_0001");
  EXPECT_EQ(hello.protocol_version, protocol::kProtocolVersion);
  EXPECT_EQ(hello.inventory_hash, link::sha256_hex(kInventory.dump()));
  EXPECT_TRUE(hello.running_attempts.empty());
  EXPECT_TRUE(hello.unacked_reports.empty());

  scheduler.send(welcome(/*inventory_wanted=*/true));
  auto [inventory_seq, inventory] = scheduler.read_as<protocol::InventoryUpdate>();
  EXPECT_GT(inventory_seq, hello_seq);
  EXPECT_EQ(inventory.inventory, kInventory);
  EXPECT_EQ(inventory.inventory_hash, hello.inventory_hash);

  auto a = shell("task1:0:0", "echo $AZ_BATCH_POOL_ID $AZ_BATCH_ACCOUNT_NAME $JOBWIDE $MODE");
  a.job_environment = {{"JOBWIDE", "j"}, {"MODE", "job"}};
  a.environment = {{"MODE", "task"}};
  const std::uint64_t seq = scheduler.send(a);
  auto [report_seq, report] = ack_and_report(scheduler, seq, "task1:0:0");
  EXPECT_GT(report_seq, inventory_seq);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(report.result, protocol::TaskResult::Success);
  scheduler.send(protocol::Ack{{report_seq}});
  sync(scheduler);

  // A heartbeat comes every second and counts nothing running now.
  protocol::Message beat = scheduler.read(/*skip_heartbeats=*/false);
  ASSERT_TRUE(std::holds_alternative<protocol::Heartbeat>(beat.payload));
  EXPECT_EQ(std::get<protocol::Heartbeat>(beat.payload).running_attempts, 0);

  EXPECT_EQ(agent.stop(scheduler), 1000);
  EXPECT_EQ(agent.exit_code(), 0);
  EXPECT_EQ(read_file(root.path() / "workitems/job1/job-1/task1/stdout.txt"),
            "pool1 acct j task\n");
  state::JournalState after = RunningAgent::journal_after(state);
  EXPECT_TRUE(after.outbox.empty()) << "the acked report left the outbox";
  EXPECT_TRUE(after.knows("task1:0:0"));
  EXPECT_GT(after.next_seq, report_seq);
}

TEST(AgentLink, AReconnectResendsUnackedReportsInHello) {
  TempDir root, state;
  FakeScheduler scheduler;
  RunningAgent agent(root, state, scheduler.port());
  scheduler.accept();
  scheduler.read_as<protocol::Hello>();
  scheduler.send(welcome());
  const std::uint64_t seq = scheduler.send(shell("task2:0:0", "exit 7"));
  auto [report_seq, report] = ack_and_report(scheduler, seq, "task2:0:0");
  EXPECT_EQ(report.exit_code, 7);
  scheduler.drop();  // the scheduler dies before acking the report

  scheduler.accept();
  auto [hello_seq, hello] = scheduler.read_as<protocol::Hello>();
  EXPECT_GT(hello_seq, report_seq);
  ASSERT_EQ(hello.unacked_reports.size(), 1u);
  EXPECT_EQ(hello.unacked_reports[0].seq, report_seq);
  EXPECT_EQ(hello.unacked_reports[0].report, report);
  EXPECT_TRUE(hello.running_attempts.empty());
  scheduler.send(welcome());
  scheduler.send(protocol::Ack{{report_seq}});
  sync(scheduler);
  EXPECT_EQ(agent.stop(scheduler), 1000);
  EXPECT_TRUE(RunningAgent::journal_after(state).outbox.empty());
}

TEST(AgentLink, AnAttemptIdRunsAtMostOnceAcrossReconnectsAndRestarts) {
  TempDir root, state, out;
  const std::string count = (out.path() / "count").string();
  const auto a = shell("task3:0:0", "echo run >> " + count);
  {
    FakeScheduler scheduler;
    RunningAgent agent(root, state, scheduler.port());
    scheduler.accept();
    scheduler.read_as<protocol::Hello>();
    scheduler.send(welcome());
    const std::uint64_t first = scheduler.send(a);
    auto [report_seq, report] = ack_and_report(scheduler, first, "task3:0:0");
    // The same assignment again (the scheduler lost our ack, say): acked, not run.
    const std::uint64_t again = scheduler.send(a);
    const std::uint64_t sentinel = scheduler.send(shell("sentinel:0:0", "exit 0"));
    bool acked_again = false;
    while (true) {
      protocol::Message m = scheduler.read();
      if (auto* ack = std::get_if<protocol::Ack>(&m.payload)) {
        for (auto s : ack->seqs) acked_again = acked_again || s == again;
      }
      if (auto* r = std::get_if<protocol::Report>(&m.payload)) {
        EXPECT_NE(r->attempt_id, "task3:0:0") << "a duplicate assignment ran again";
        if (r->attempt_id == "sentinel:0:0") break;
      }
      if (m.seq == 0) break;
    }
    EXPECT_TRUE(acked_again);
    (void)sentinel;
    EXPECT_EQ(agent.stop(scheduler), 1000);
  }
  {
    FakeScheduler scheduler;  // a restarted agent (and scheduler) meets the id once more
    RunningAgent agent(root, state, scheduler.port());
    scheduler.accept();
    auto [hello_seq, hello] = scheduler.read_as<protocol::Hello>();
    EXPECT_EQ(hello.unacked_reports.size(), 2u) << "neither report was acked";
    scheduler.send(welcome());
    const std::uint64_t third = scheduler.send(a);
    const std::uint64_t sentinel = scheduler.send(shell("sentinel2:0:0", "exit 0"));
    auto [seq2, report2] = ack_and_report(scheduler, sentinel, "sentinel2:0:0");
    (void)third;
    (void)seq2;
    EXPECT_EQ(agent.stop(scheduler), 1000);
  }
  EXPECT_EQ(read_file(count), "run\n");
}

TEST(AgentLink, RefusedUpgradesAndBadFramesAreRetried) {
  TempDir root, state;
  FakeScheduler scheduler;
  RunningAgent agent(root, state, scheduler.port());
  EXPECT_EQ(scheduler.accept(/*refuse_status=*/401), "Bearer node-token-1");
  scheduler.accept();  // the agent did not give up
  scheduler.read_as<protocol::Hello>();
  scheduler.send(welcome());
  scheduler.send_raw(R"({"type": "assignment", "seq": 2})");  // missing every field
  EXPECT_EQ(scheduler.wait_for_close(), 1008);
  scheduler.accept();  // and links again after a bad frame
  scheduler.read_as<protocol::Hello>();
  scheduler.send(welcome());
  EXPECT_EQ(agent.stop(scheduler), 1000);
}

TEST(AgentLink, CancelStopsTheAttemptAndReportsTaskEnded) {
  TempDir root, state;
  FakeScheduler scheduler;
  RunningAgent agent(root, state, scheduler.port());
  scheduler.accept();
  scheduler.read_as<protocol::Hello>();
  scheduler.send(welcome());
  const std::uint64_t seq = scheduler.send(shell("task5:0:0", "sleep 30"));
  while (true) {  // the ack
    protocol::Message m = scheduler.read();
    auto* ack = std::get_if<protocol::Ack>(&m.payload);
    if (m.seq == 0 ||
        (ack && std::find(ack->seqs.begin(), ack->seqs.end(), seq) != ack->seqs.end())) {
      break;
    }
  }
  const std::uint64_t cancel =
      scheduler.send(protocol::Cancel{"task5:0:0", protocol::CancelReason::TaskTerminated});
  auto [report_seq, report] = ack_and_report(scheduler, cancel, "task5:0:0");
  EXPECT_EQ(report.failure_info->code, "TaskEnded");
  EXPECT_EQ(report.exit_code, 128 + SIGTERM);
  (void)report_seq;
  EXPECT_EQ(agent.stop(scheduler), 1000);
}

TEST(AgentLink, ShutdownAbandonsRunningAttemptsForTheSchedulerToRequeue) {
  TempDir root, state;
  FakeScheduler scheduler;
  RunningAgent agent(root, state, scheduler.port());
  scheduler.accept();
  scheduler.read_as<protocol::Hello>();
  scheduler.send(welcome());
  const std::uint64_t seq = scheduler.send(shell("task6:0:0", "sleep 30"));
  while (true) {
    protocol::Message m = scheduler.read();
    auto* ack = std::get_if<protocol::Ack>(&m.payload);
    if (m.seq == 0 ||
        (ack && std::find(ack->seqs.begin(), ack->seqs.end(), seq) != ack->seqs.end())) {
      break;
    }
  }
  EXPECT_EQ(agent.stop(scheduler), 1000);
  state::JournalState after = RunningAgent::journal_after(state);
  EXPECT_TRUE(after.knows("task6:0:0"));
  EXPECT_TRUE(after.attempts.empty()) << "abandoned, not running";
  EXPECT_TRUE(after.outbox.empty()) << "no report for an abandoned attempt";
}

}  // namespace
}  // namespace openbatch::agent::daemon
