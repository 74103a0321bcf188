// AttemptRunner::adopt: attempts a previous agent process left under their shims. One that
// ended meanwhile is reported at once with the exit status its shim kept (and the output-cap
// verdict); one still running counts as running (hello lists it, its slots are taken) and is
// reported when its shim ends; a shim that vanished without a status has its task stopped.
// Stand-in shims are plain processes: the runner only watches them (pidfd) and reads the
// status file.
#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/runner/attempt_runner.hpp"
#include "node_agent/shim/shim_launch.hpp"
#include "node_agent/shim/shim_status.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace openbatch::agent::runner {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;
namespace asio = boost::asio;

struct Recorder final : RunnerEvents {
  std::vector<protocol::Report> reports;
  void attempt_started(const std::string&, pid_t, pid_t, const std::string&) override {}
  void attempt_report(protocol::Report r) override { reports.push_back(std::move(r)); }
  const protocol::Report* completed(const std::string& id) const {
    for (const auto& r : reports) {
      if (r.attempt_id == id && r.state == protocol::AttemptState::Completed) return &r;
    }
    return nullptr;
  }
};

class AdoptTest : public ::testing::Test {
 protected:
  AdoptTest() {
    options_.facts.node_root = root_.path();
    options_.facts.run_as_agent_user = true;
    options_.facts.agent_user = "tester";
    options_.running_report_delay = 0ms;
    runner_ = std::make_unique<AttemptRunner>(io_, launcher_, options_, events_);
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

  // A process in a group of its own (a stand-in shim or task).
  exec::Child spawn(const std::string& script) {
    exec::LaunchSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin"};
    auto child = launcher_.launch(spec);
    EXPECT_TRUE(child);
    return *child;
  }

  AdoptedAttempt adopted(const std::string& id, shim::ShimStatus status) {
    const auto dir = state_.path() / id;
    protocol::Assignment a;
    a.attempt_id = id;
    a.job_id = "job";
    a.task_id = id;
    a.command_line = "true";
    a.required_slots = 2;
    EXPECT_TRUE(
        shim::make_attempt_dir(dir, {{"assignment", a}, {"startTime", "2026-01-01T00:00:00Z"}}));
    EXPECT_TRUE(shim::write_status_file(dir, status));
    AdoptedAttempt out{id, dir, *shim::read_attempt_file(dir), status, {}};
    if (status.state == shim::ShimStatus::State::Running) {
      out.pidfd = posix::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, status.shim_pid, 0)));
    }
    return out;
  }

  static shim::ShimStatus status(shim::ShimStatus::State state, pid_t shim_pid, pid_t task_pid) {
    shim::ShimStatus s;
    s.state = state;
    s.shim_pid = shim_pid;
    s.task_pid = task_pid;
    s.boot_id = "boot";
    return s;
  }

  TempDir root_;
  TempDir state_;
  asio::io_context io_;
  exec::PosixLauncher launcher_;
  RunnerOptions options_;
  Recorder events_;
  std::unique_ptr<AttemptRunner> runner_;
};

TEST_F(AdoptTest, AnAttemptThatEndedMeanwhileIsReportedOnceWithItsRealExitCode) {
  auto s = status(shim::ShimStatus::State::Exited, 4000, 4001);
  s.exit_code = 0;
  runner_->adopt(adopted("done", s));
  const auto* r = events_.completed("done");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->result, protocol::TaskResult::Success);
  EXPECT_EQ(r->start_time, "2026-01-01T00:00:00Z");
  EXPECT_EQ(events_.reports.size(), 1u);
  EXPECT_EQ(runner_->used_slots(), 0);
  EXPECT_TRUE(runner_->running_attempts().empty());
}

TEST_F(AdoptTest, TheOutputCapVerdictIsReported) {
  auto s = status(shim::ShimStatus::State::Exited, 4000, 4001);
  s.signal = SIGKILL;
  s.output_limit = shim::OutputLimitHit{"stdout.txt", 4096};
  runner_->adopt(adopted("flood", s));
  const auto* r = events_.completed("flood");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->exit_code, 137);
  EXPECT_EQ(r->result, protocol::TaskResult::Failure);
  ASSERT_TRUE(r->failure_info);
  EXPECT_EQ(r->failure_info->code, kOutputLimitExceeded);
  EXPECT_EQ(r->failure_info->category, protocol::ErrorCategory::UserError);
  EXPECT_NE(r->failure_info->message.find("stdout.txt"), std::string::npos);
  EXPECT_NE(r->failure_info->message.find("4096"), std::string::npos);
  EXPECT_NE(r->failure_info->message.find("--max-task-output"), std::string::npos);
}

TEST_F(AdoptTest, ARunningAttemptCountsAsRunningUntilItsShimEnds) {
  // The stand-in shim lives until the test lets it go; its status already says how it ends.
  const auto dir_ready = state_.path() / "go";
  exec::Child shim = spawn("while [ ! -e " + dir_ready.string() + " ]; do sleep 0.05; done");
  auto running = adopted("live", status(shim::ShimStatus::State::Running, shim.pid, shim.pid));
  auto ended = running.status;
  ended.state = shim::ShimStatus::State::Exited;
  ended.exit_code = 5;
  runner_->adopt(std::move(running));
  const auto listed = runner_->running_attempts();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempt_id, "live");
  EXPECT_EQ(listed[0].state, protocol::AttemptState::Running);
  EXPECT_EQ(runner_->used_slots(), 2);
  io_.restart();
  io_.run_for(200ms);
  EXPECT_EQ(events_.completed("live"), nullptr);

  ASSERT_TRUE(shim::write_status_file(state_.path() / "live", ended));
  std::ofstream(dir_ready).put('x');
  ASSERT_TRUE(run_until([&] { return events_.completed("live") != nullptr; }));
  EXPECT_EQ(events_.completed("live")->exit_code, 5);
  EXPECT_EQ(events_.completed("live")->failure_info->code, "FailureExitCode");
  EXPECT_EQ(runner_->used_slots(), 0);
}

TEST_F(AdoptTest, AShimGoneWithoutAStatusHasItsTaskStopped) {
  exec::Child task = spawn("sleep 30");
  exec::Child shim = spawn("sleep 0.2");
  runner_->adopt(adopted("orphan", status(shim::ShimStatus::State::Running, shim.pid, task.pid)));
  ASSERT_TRUE(run_until([&] { return events_.completed("orphan") != nullptr; }));
  EXPECT_EQ(events_.completed("orphan")->exit_code, 137);
  EXPECT_EQ(events_.completed("orphan")->result, protocol::TaskResult::Failure);
  // The task's group got SIGKILL: it is gone (reaped by the runner's reaper or here).
  ASSERT_TRUE(run_until([&] {
    return ::kill(task.pid, 0) != 0 || ::waitpid(task.pid, nullptr, WNOHANG) == task.pid;
  }));
}

}  // namespace
}  // namespace openbatch::agent::runner
