// The restarted agent's decision for each attempt the journal says was unfinished, given what
// its shim left: adopt a live one, collect a finished one, abandon the rest (killing a task
// whose shim is gone) -- and never mistake a recycled pid for the shim.
#include "node_agent/shim/adoption.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace openbatch::agent::shim {
namespace {

using openbatch::testing::TempDir;

ShimStatus status(ShimStatus::State state) {
  ShimStatus s;
  s.state = state;
  s.shim_pid = 100;
  s.shim_start_ticks = 5000;
  s.boot_id = "boot-1";
  s.task_pid = 101;
  return s;
}

AdoptionFacts facts(std::optional<ShimStatus> s, std::optional<std::uint64_t> live) {
  return AdoptionFacts{"boot-1", std::move(s), live};
}

TEST(Adoption, DecisionTable) {
  using S = ShimStatus::State;
  struct Row {
    const char* what;
    AdoptionFacts facts;
    AdoptionAction action;
    pid_t kill;
  };
  const std::vector<Row> rows = {
      {"no status: never started under a shim", facts(std::nullopt, std::nullopt),
       AdoptionAction::Abandon, 0},
      {"running, the same shim alive", facts(status(S::Running), 5000), AdoptionAction::Adopt, 0},
      {"running, shim gone: kill the task", facts(status(S::Running), std::nullopt),
       AdoptionAction::Abandon, 101},
      {"running, pid recycled by another process", facts(status(S::Running), 6000),
       AdoptionAction::Abandon, 101},
      {"exited while the agent was away", facts(status(S::Exited), std::nullopt),
       AdoptionAction::Collect, 0},
      {"exited, shim still finishing", facts(status(S::Exited), 5000), AdoptionAction::Collect, 0},
  };
  for (const auto& row : rows) {
    const auto plan = adoption_plan(row.facts);
    EXPECT_EQ(plan.action, row.action) << row.what;
    EXPECT_EQ(plan.kill_group, row.kill) << row.what;
  }
}

TEST(Adoption, AnotherBootMeansNothing) {
  for (auto state : {ShimStatus::State::Running, ShimStatus::State::Exited}) {
    AdoptionFacts f = facts(status(state), 5000);
    f.current_boot_id = "boot-2";
    EXPECT_EQ(adoption_plan(f).action, AdoptionAction::Abandon);
    EXPECT_EQ(adoption_plan(f).kill_group, 0);  // its pids belong to another boot
    f.current_boot_id = "";
    f.status->boot_id = "";
    EXPECT_EQ(adoption_plan(f).action, AdoptionAction::Abandon);
  }
}

TEST(Adoption, StartTicksOfALiveProcessAndNoneForZombiesOrStrangers) {
  const auto mine = process_start_ticks(::getpid());
  ASSERT_TRUE(mine);
  EXPECT_EQ(process_start_ticks(::getpid()), mine);  // stable: it identifies the process
  EXPECT_FALSE(process_start_ticks(0));
  EXPECT_FALSE(process_start_ticks(1 << 30));

  TempDir proc;
  std::filesystem::create_directories(proc.path() / "77");
  std::filesystem::create_directories(proc.path() / "78");
  // comm with spaces and a ')' must not shift the fields.
  std::ofstream(proc.path() / "77" / "stat")
      << "77 (a) b) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0\n";
  std::ofstream(proc.path() / "78" / "stat")
      << "78 (z) Z 1 78 78 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123457 0 0\n";
  EXPECT_EQ(process_start_ticks(77, proc.path().string()), 123456u);
  EXPECT_FALSE(process_start_ticks(78, proc.path().string()));  // a zombie has ended
}

}  // namespace
}  // namespace openbatch::agent::shim
