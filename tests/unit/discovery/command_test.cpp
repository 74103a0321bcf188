// run_command: output capture, exit status and signals, program lookup, and the deadline.
#include "node_agent/discovery/command.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::discovery {
namespace {

using namespace std::chrono_literals;

TEST(RunCommand, CapturesStdoutStderrAndExitStatus) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->signal, 0);
  EXPECT_FALSE(r->ok());
}

TEST(RunCommand, ReportsTheSignalThatEndedIt) {
  auto r = run_command({"sh", "-c", "kill -9 $$"}, 5s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->signal, 9);
}

TEST(RunCommand, ReadsLargeOutputAndGivesNoStdin) {
  auto big = run_command({"head", "-c", "1000000", "/dev/zero"}, 10s);
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->out.size(), 1000000u);
  auto cat = run_command({"cat"}, 5s);
  ASSERT_TRUE(cat) << cat.error().message;
  EXPECT_TRUE(cat->ok());
  EXPECT_EQ(cat->out, "");
}

TEST(RunCommand, MissingProgramIsCommandNotFound) {
  auto by_name = run_command({"openbatch-test-no-such-program"}, 5s);
  ASSERT_FALSE(by_name);
  EXPECT_TRUE(is_command_not_found(by_name.error())) << by_name.error().message;
  auto by_path = run_command({"/nonexistent/bin/tool"}, 5s);
  ASSERT_FALSE(by_path);
  EXPECT_TRUE(is_command_not_found(by_path.error()));
  EXPECT_FALSE(run_command({}, 5s));
}

TEST(RunCommand, NonExecutableFileIsAFailureNotAbsence) {
  openbatch::testing::TempDir dir;
  testing::write_file(dir.path() / "tool", "#!/bin/sh\n");
  auto r = run_command({(dir.path() / "tool").string()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kCommandFailed);
}

TEST(RunCommand, LooksProgramsUpInTheGivenSearchPath) {
  openbatch::testing::TempDir dir;
  testing::write_script(dir.path() / "hello-tool", "echo hello \"$1\"\n");
  auto r = run_command({"hello-tool", "node"}, 5s, "/nonexistent:" + dir.path().string());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "hello node\n");
  EXPECT_FALSE(run_command({"hello-tool"}, 5s));  // not in the system directories
}

TEST(RunCommand, KillsTheProgramAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_command({"sh", "-c", "echo started; exec sleep 30"}, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kCommandTimedOut);
  EXPECT_LT(took, 5s);
  EXPECT_GE(took, 300ms);
}

TEST(RunCommand, KillsAGrandchildThatKeepsTheOutputOpen) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_command({"sh", "-c", "sleep 30 & echo parent done"}, 300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kCommandTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace openbatch::agent::discovery
