// Crash recovery: attempts that were running when the agent died are killed (when their group
// still exists on this boot) and abandoned, never restarted; their reports are not invented;
// reports already in the outbox stay for the next hello.
#include "node_agent/state/recovery.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <set>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace openbatch::agent::state {
namespace {

using openbatch::testing::TempDir;

class FakeProbe final : public ProcessProbe {
 public:
  std::string boot = "boot-1";
  std::set<pid_t> alive;
  std::vector<pid_t> killed;
  std::string boot_id() const override { return boot; }
  bool group_exists(pid_t pgid) const override { return alive.contains(pgid); }
  void kill_group(pid_t pgid) override { killed.push_back(pgid); }
};

protocol::Report completed(const std::string& id) {
  protocol::Report r;
  r.attempt_id = id;
  r.state = protocol::AttemptState::Completed;
  r.exit_code = 0;
  r.end_time = "2025-03-01T10:00:01Z";
  r.result = protocol::TaskResult::Success;
  return r;
}

TEST(Recovery, OrphansAreKilledAbandonedAndNeverStartedAgain) {
  TempDir dir;
  {
    auto j = Journal::open(dir.path() / "journal");
    ASSERT_TRUE(j);
    Journal& journal = **j;
    // running when the agent died, group still alive
    journal.append(AcceptedRecord{"j:run:0:0", "j", "run", 1});
    journal.append(StartedRecord{"j:run:0:0", 4242, 4242, "t", "boot-1"});
    // recorded but never forked
    journal.append(AcceptedRecord{"j:new:0:0", "j", "new", 1});
    // finished, report not yet acked
    journal.append(AcceptedRecord{"j:done:0:0", "j", "done", 1});
    journal.append(StartedRecord{"j:done:0:0", 4243, 4243, "t", "boot-1"});
    journal.append(ReportRecord{9, completed("j:done:0:0")});
    // started before a reboot: its pid may now be someone else's
    journal.append(AcceptedRecord{"j:old:0:0", "j", "old", 1});
    journal.append(StartedRecord{"j:old:0:0", 4244, 4244, "t", "boot-0"});
    // group already gone
    journal.append(AcceptedRecord{"j:gone:0:0", "j", "gone", 1});
    journal.append(StartedRecord{"j:gone:0:0", 4245, 4245, "t", "boot-1"});
    ASSERT_TRUE(journal.flush());
  }  // the agent "crashes" here

  auto j = Journal::open(dir.path() / "journal");
  ASSERT_TRUE(j);
  FakeProbe probe;
  probe.alive = {4242, 4244};
  auto result = recover(**j, probe);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->abandoned,
            (std::vector<std::string>{"j:gone:0:0", "j:new:0:0", "j:old:0:0", "j:run:0:0"}));
  EXPECT_EQ(probe.killed, std::vector<pid_t>{4242});
  EXPECT_EQ(result->unacked_reports, 1u);
  const JournalState& s = (*j)->state();
  for (const char* id : {"j:run:0:0", "j:new:0:0", "j:old:0:0", "j:gone:0:0", "j:done:0:0"}) {
    EXPECT_TRUE(s.knows(id)) << id;
  }
  // Only the finished attempt is still live: its report waits for the next hello.
  ASSERT_EQ(s.attempts.size(), 1u);
  EXPECT_TRUE(s.attempts.contains("j:done:0:0"));
  EXPECT_EQ(s.outbox.at(9), completed("j:done:0:0"));

  // Durable: a second start finds nothing more to do.
  j->reset();
  auto again = Journal::open(dir.path() / "journal");
  ASSERT_TRUE(again);
  FakeProbe probe2;
  auto second = recover(**again, probe2);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->abandoned.empty());
  EXPECT_TRUE((*again)->state().knows("j:run:0:0"));
}

TEST(Recovery, TheRealProbeFindsAndKillsALiveProcessGroup) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setsid();
    ::pause();
    ::_exit(0);
  }
  ProcProcessProbe probe;
  EXPECT_FALSE(probe.boot_id().empty());
  bool found = false;
  for (int i = 0; i < 200 && !found; ++i) {  // until the child has become a group leader
    found = probe.group_exists(pid);
    if (!found) ::usleep(5000);
  }
  EXPECT_TRUE(found);
  probe.kill_group(pid);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(probe.group_exists(pid));
}

}  // namespace
}  // namespace openbatch::agent::state
