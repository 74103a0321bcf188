// AttemptRunner with real /bin/sh processes: exit codes and stdout.txt, a launch failure, the
// wall-clock kill, cancel (with a task that ignores SIGTERM), a resource file served over
// loopback, and shutdown. Each test waits on events with a deadline, never on a fixed sleep.
#include "node_agent/runner/attempt_runner.hpp"

#include "node_agent/exec/posix_launcher.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace openbatch::agent::runner {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;
namespace asio = boost::asio;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Recorder final : RunnerEvents {
  std::map<std::string, pid_t> started;
  std::vector<protocol::Report> reports;
  void attempt_started(const std::string& id, pid_t pid, pid_t, const std::string&) override {
    started[id] = pid;
  }
  void attempt_report(protocol::Report r) override { reports.push_back(std::move(r)); }
  const protocol::Report* completed(const std::string& id) const {
    for (const auto& r : reports) {
      if (r.attempt_id == id && r.state == protocol::AttemptState::Completed) return &r;
    }
    return nullptr;
  }
};

class RunnerTest : public ::testing::Test {
 protected:
  RunnerTest() {
    options_.facts.node_root = root_.path();
    options_.facts.node_id = "n1";
    options_.facts.pool_id = "p1";
    options_.facts.run_as_agent_user = true;  // no user switching in unit tests
    options_.facts.agent_user = "tester";
    options_.kill_grace = 300ms;
    options_.running_report_delay = 0ms;
    runner_ = std::make_unique<AttemptRunner>(io_, launcher_, options_, events_);
  }

  protocol::Assignment shell(const std::string& id, const std::string& script) {
    protocol::Assignment a;
    a.attempt_id = id;
    a.job_id = "job";
    a.task_id = id;
    a.command_line = "/bin/sh -c '" + script + "'";
    return a;
  }

  void run(protocol::Assignment a) {
    const std::string id = a.attempt_id;
    runner_->accept(std::move(a));
    runner_->start(id);
  }

  // Runs the loop until `done` holds; false after 10 s.
  template <class F>
  bool run_until(F done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_one_for(50ms);
    }
    return true;
  }

  std::filesystem::path task_dir(const std::string& task) const {
    return root_.path() / "workitems" / "job" / "job-1" / task;
  }

  TempDir root_;
  asio::io_context io_;
  exec::PosixLauncher launcher_;
  RunnerOptions options_;
  Recorder events_;
  std::unique_ptr<AttemptRunner> runner_;
};

TEST_F(RunnerTest, ReportsTheExitCodeAndKeepsStdout) {
  run(shell("t1", "echo hello $AZ_BATCH_TASK_ID; pwd; exit 3"));
  EXPECT_EQ(runner_->used_slots(), 1);
  ASSERT_TRUE(run_until([&] { return events_.completed("t1") != nullptr; }));
  const protocol::Report& r = *events_.completed("t1");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.result, protocol::TaskResult::Failure);
  EXPECT_EQ(r.failure_info->code, "FailureExitCode");
  EXPECT_TRUE(r.start_time && r.end_time);
  EXPECT_TRUE(events_.started.contains("t1"));
  EXPECT_EQ(read_file(task_dir("t1") / "stdout.txt"),
            "hello t1\n" + (task_dir("t1") / "wd").string() + "\n");
  EXPECT_EQ(runner_->attempt_count(), 0);
  EXPECT_EQ(runner_->used_slots(), 0);
}

TEST_F(RunnerTest, ManyTasksAtOnceAllComplete) {
  for (int i = 0; i < 50; ++i) run(shell("m" + std::to_string(i), "exit 0"));
  ASSERT_TRUE(run_until([&] { return events_.reports.size() == 50; }));
  for (const auto& r : events_.reports) EXPECT_EQ(r.result, protocol::TaskResult::Success);
}

TEST_F(RunnerTest, AMissingProgramIsAFailureWithoutExitCode) {
  auto a = shell("t2", "");
  a.command_line = "/no/such/program --flag";
  run(a);
  ASSERT_TRUE(run_until([&] { return events_.completed("t2") != nullptr; }));
  const protocol::Report& r = *events_.completed("t2");
  EXPECT_FALSE(r.exit_code);
  EXPECT_EQ(r.failure_info->code, "CommandProgramNotFound");
  EXPECT_NE(r.failure_info->message.find("No such file"), std::string::npos)
      << r.failure_info->message;
  EXPECT_FALSE(events_.started.contains("t2"));
}

TEST_F(RunnerTest, TheWallClockLimitStopsTheTask) {
  auto a = shell("t3", "sleep 30");
  a.constraints.max_wall_clock_time = "PT0.2S";
  run(a);
  ASSERT_TRUE(run_until([&] { return events_.completed("t3") != nullptr; }));
  const protocol::Report& r = *events_.completed("t3");
  EXPECT_EQ(r.failure_info->code, "MaxWallClockTimeExpiry");
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_EQ(r.result, protocol::TaskResult::Failure);
}

TEST_F(RunnerTest, CancelEscalatesToSigkillAfterTheGrace) {
  // The shell ignores SIGTERM and waits on a child that does too.
  run(shell("t4", "trap \"\" TERM; echo ready; sleep 30 & wait"));
  ASSERT_TRUE(run_until([&] { return read_file(task_dir("t4") / "stdout.txt") == "ready\n"; }));
  EXPECT_TRUE(runner_->cancel("t4", protocol::CancelReason::TaskTerminated));
  EXPECT_FALSE(runner_->cancel("unknown", protocol::CancelReason::TaskTerminated));
  ASSERT_TRUE(run_until([&] { return events_.completed("t4") != nullptr; }));
  const protocol::Report& r = *events_.completed("t4");
  EXPECT_EQ(r.failure_info->code, "TaskEnded");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST_F(RunnerTest, ACancelBeforeTheStartReportsWithoutRunning) {
  auto a = shell("t5", "exit 0");
  runner_->accept(a);
  EXPECT_TRUE(runner_->cancel("t5", protocol::CancelReason::JobTerminated));
  runner_->start("t5");
  ASSERT_NE(events_.completed("t5"), nullptr);
  EXPECT_EQ(events_.completed("t5")->failure_info->code, "TaskEnded");
  EXPECT_FALSE(events_.started.contains("t5"));
}

TEST_F(RunnerTest, ShutdownKillsEverythingAndReportsNothing) {
  run(shell("t6", "sleep 30"));
  runner_->accept(shell("t7", "exit 0"));  // accepted, never started
  ASSERT_TRUE(run_until([&] { return events_.started.contains("t6"); }));
  std::optional<std::vector<std::string>> abandoned;
  runner_->stop_all([&](std::vector<std::string> ids) { abandoned = std::move(ids); });
  ASSERT_TRUE(run_until([&] { return abandoned.has_value(); }));
  std::sort(abandoned->begin(), abandoned->end());
  EXPECT_EQ(*abandoned, (std::vector<std::string>{"t6", "t7"}));
  EXPECT_TRUE(events_.reports.empty());
  EXPECT_EQ(::kill(events_.started["t6"], 0), -1) << "the process must be gone";
}

TEST_F(RunnerTest, ResourceFilesAreDownloadedIntoWdBeforeTheStart) {
  asio::io_context server_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::thread server([&] {
    asio::ip::tcp::socket socket(server_io);
    acceptor.accept(socket);
    asio::streambuf request;
    asio::read_until(socket, request, "\r\n\r\n");
    const std::string body = "payload\n";
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    asio::write(socket, asio::buffer(response));
  });
  auto a = shell("t8", "cat data/in.txt; stat -c %a data/in.txt");
  a.resource_files = nlohmann::json::array(
      {{{"httpUrl", "http://127.0.0.1:" + std::to_string(port) + "/files/in.txt"},
        {"filePath", "data/in.txt"},
        {"fileMode", "0640"}}});
  run(a);
  ASSERT_TRUE(run_until([&] { return events_.completed("t8") != nullptr; }));
  server.join();
  EXPECT_EQ(events_.completed("t8")->exit_code, 0)
      << (events_.completed("t8")->failure_info ? events_.completed("t8")->failure_info->message
                                                : "");
  EXPECT_EQ(read_file(task_dir("t8") / "stdout.txt"), "payload\n640\n");
}

TEST_F(RunnerTest, AnUnreachableResourceFileFailsTheAttempt) {
  asio::io_context server_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();  // nothing listens there any more
  auto a = shell("t9", "exit 0");
  a.resource_files = nlohmann::json::array(
      {{{"httpUrl", "http://127.0.0.1:" + std::to_string(port) + "/x"}, {"filePath", "x"}}});
  run(a);
  ASSERT_TRUE(run_until([&] { return events_.completed("t9") != nullptr; }));
  EXPECT_EQ(events_.completed("t9")->failure_info->code, "ResourceFileDownloadFailed");
  EXPECT_FALSE(events_.started.contains("t9"));
}

}  // namespace
}  // namespace openbatch::agent::runner
