// AttemptRunner with shims: start() does not wait for the shim's answer (the event loop reads
// it); the attempt runs once the answer says so. A shim that dies without answering, or
// answers an error, fails the attempt; a cancel or a shutdown before the answer is applied
// once the task runs. Stand-in shims are small shell scripts speaking the shim's protocol on
// their stdin (the agent's socket): they answer {"taskPid": N} or {"error": ...}.
#include "node_agent/shim/shim_launch.hpp"

#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/runner/attempt_runner.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sys/stat.h>

namespace openbatch::agent::runner {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;
namespace asio = boost::asio;

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

// Starts the task (in a session of its own, as the real shim does) after `delay`, answers its
// pid, closes the socket and waits for it.
std::string answering_shim(const std::string& delay, const std::string& task) {
  return "sleep " + delay + "\nsetsid sh -c '" + task +
         "' </dev/null &\nprintf '{\"taskPid\":%d}' $! >&0\nexec 0<&-\nwait $!\n";
}

class ShimLaunchTest : public ::testing::Test {
 protected:
  void start_runner(const std::string& shim_script) {
    const auto script = state_.path() / "shim.sh";
    std::ofstream(script) << "#!/bin/sh\n" << shim_script;
    ::chmod(script.c_str(), 0755);
    std::filesystem::create_directory(state_.path() / "shims");
    options_.facts.node_root = root_.path();
    options_.facts.node_id = "n1";
    options_.facts.pool_id = "p1";
    options_.facts.run_as_agent_user = true;
    options_.facts.agent_user = "tester";
    options_.kill_grace = 300ms;
    options_.running_report_delay = 0ms;
    options_.shim = shim::ShimConfig{script, false, state_.path() / "shims", 0, "boot"};
    runner_ = std::make_unique<AttemptRunner>(io_, launcher_, options_, events_);
  }

  void run(const std::string& id) {
    protocol::Assignment a;
    a.attempt_id = id;
    a.job_id = "job";
    a.task_id = id;
    a.command_line = "true";  // the stand-in shims run their own task
    a.required_slots = 1;
    runner_->accept(std::move(a));
    runner_->start(id);
  }

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

  TempDir root_;
  TempDir state_;
  asio::io_context io_;
  exec::PosixLauncher launcher_;
  RunnerOptions options_;
  Recorder events_;
  std::unique_ptr<AttemptRunner> runner_;
};

TEST_F(ShimLaunchTest, StartDoesNotWaitForTheShimsAnswer) {
  start_runner(answering_shim("0.5", "exit 0"));
  const auto before = std::chrono::steady_clock::now();
  run("a");
  run("b");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 400ms);
  EXPECT_TRUE(events_.started.empty());
  ASSERT_EQ(runner_->running_attempts().size(), 2u);
  EXPECT_EQ(runner_->running_attempts()[0].state, protocol::AttemptState::Preparing);
  ASSERT_TRUE(run_until([&] { return events_.completed("a") && events_.completed("b"); }));
  EXPECT_EQ(events_.started.size(), 2u);
  EXPECT_EQ(events_.completed("a")->exit_code, 0);
  EXPECT_EQ(runner_->used_slots(), 0);
}

TEST_F(ShimLaunchTest, AShimThatDiesWithoutAnsweringFailsTheAttempt) {
  start_runner("exit 3\n");
  run("a");
  ASSERT_TRUE(run_until([&] { return events_.completed("a") != nullptr; }));
  const auto* r = events_.completed("a");
  EXPECT_EQ(r->result, protocol::TaskResult::Failure);
  ASSERT_TRUE(r->failure_info);
  EXPECT_NE(r->failure_info->message.find("no answer"), std::string::npos)
      << r->failure_info->message;
  EXPECT_FALSE(events_.started.contains("a"));
  EXPECT_FALSE(std::filesystem::exists(state_.path() / "shims" / "a"));
  EXPECT_EQ(runner_->used_slots(), 0);
}

TEST_F(ShimLaunchTest, AnErrorAnswerFailsTheAttemptWithItsMessage) {
  start_runner(
      "printf '{\"error\":{\"status\":400,\"code\":\"CommandNotFound\",\"message\":\"no such "
      "program here\",\"values\":[]}}' >&0\nexit 1\n");
  run("a");
  ASSERT_TRUE(run_until([&] { return events_.completed("a") != nullptr; }));
  const auto* r = events_.completed("a");
  ASSERT_TRUE(r->failure_info);
  EXPECT_NE(r->failure_info->message.find("no such program here"), std::string::npos)
      << r->failure_info->message;
  EXPECT_FALSE(events_.started.contains("a"));
  EXPECT_FALSE(std::filesystem::exists(state_.path() / "shims" / "a"));
}

TEST_F(ShimLaunchTest, ACancelBeforeTheAnswerStopsTheTaskOnceItRuns) {
  start_runner(answering_shim("0.3", "exec sleep 30"));
  run("a");
  EXPECT_TRUE(runner_->cancel("a", protocol::CancelReason::TaskTerminated));
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] { return events_.completed("a") != nullptr; }));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);  // not the task's 30 s
  EXPECT_TRUE(events_.started.contains("a"));                // it did run, then was stopped
  EXPECT_EQ(runner_->used_slots(), 0);
}

TEST_F(ShimLaunchTest, AShutdownBeforeTheAnswerAbandonsTheAttemptOnceItsTaskIsGone) {
  start_runner(answering_shim("0.3", "exec sleep 30"));
  run("a");
  std::optional<std::vector<std::string>> abandoned;
  runner_->stop_all([&](std::vector<std::string> ids) { abandoned = std::move(ids); });
  ASSERT_TRUE(run_until([&] { return abandoned.has_value(); }));
  EXPECT_EQ(*abandoned, std::vector<std::string>{"a"});
  EXPECT_EQ(events_.completed("a"), nullptr);
}

}  // namespace
}  // namespace openbatch::agent::runner
