// Wait: task phases, taskcounts replies, the job's early finish, and the polling loop over
// a scripted source.
#include "cli/wait_sources.hpp"
#include "cli/waiter.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace openbatch::cli {
namespace {

using nlohmann::json;

TEST(TaskPhase, FollowsStateAndResult) {
  EXPECT_EQ(task_phase({{"state", "active"}}), TaskPhase::Active);
  EXPECT_EQ(task_phase({{"state", "preparing"}}), TaskPhase::Running);
  EXPECT_EQ(task_phase({{"state", "Running"}}), TaskPhase::Running);
  EXPECT_EQ(task_phase({{"state", "completed"}, {"executionInfo", {{"result", "success"}}}}),
            TaskPhase::Succeeded);
  EXPECT_EQ(task_phase({{"state", "completed"}, {"executionInfo", {{"result", "failure"}}}}),
            TaskPhase::Failed);
  TaskCounts c;
  for (auto p : {TaskPhase::Active, TaskPhase::Running, TaskPhase::Succeeded, TaskPhase::Failed})
    tally(p, c);
  EXPECT_EQ(c, (TaskCounts{.active = 1, .running = 1, .completed = 2, .failed = 1}));
}

TEST(TaskCountsReply, MapsAzureFields) {
  const json reply = json::parse(
      R"({"taskCounts":{"active":5,"running":2,"completed":10,"succeeded":7,"failed":3}})");
  EXPECT_EQ(counts_from_taskcounts(reply),
            (TaskCounts{.active = 5, .running = 2, .completed = 10, .failed = 3}));
  EXPECT_EQ(counts_from_taskcounts(json::object()), TaskCounts{});
}

TEST(JobFinish, OnlyACompletedJobEndsTheWaitEarly) {
  EXPECT_EQ(job_finish_reason({{"state", "active"}}), "");
  EXPECT_EQ(job_finish_reason({{"state", "terminating"}}), "");
  EXPECT_EQ(job_finish_reason({{"state", "completed"},
                               {"executionInfo", {{"terminateReason", "UserTerminate"}}}}),
            "job completed (UserTerminate)");
  EXPECT_EQ(job_finish_reason({{"state", "completed"}}), "job completed");
}

WaitOptions fast() {
  WaitOptions o;
  o.interval_seconds = 0.001;
  o.line_every_seconds = 0;  // a line per poll
  return o;
}

TEST(Waiter, PollsUntilNothingIsActiveOrRunning) {
  std::vector<TaskCounts> script{
      {.active = 2}, {.active = 1, .running = 1}, {.completed = 2, .failed = 1}};
  std::size_t polls = 0;
  std::ostringstream progress;
  auto r = wait_until_settled(
      [&]() -> Result<WaitState> {
        return WaitState{script[polls++], false, ""};
      },
      fast(), progress);
  ASSERT_TRUE(r);
  EXPECT_EQ(polls, 3u);
  EXPECT_EQ(r->counts.failed, 1);
  EXPECT_NE(progress.str().find("2/2 done (100%)"), std::string::npos) << progress.str();
}

TEST(Waiter, StopsWhenTheSourceSaysFinishedAndPassesErrorsOn) {
  std::ostringstream progress;
  auto finished = wait_until_settled(
      [] {
        return Result<WaitState>(WaitState{{.active = 3}, true, "job completed"});
      },
      fast(), progress);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->reason, "job completed");
  auto failed = wait_until_settled(
      [] { return Result<WaitState>(Error(404, "JobNotFound", "gone")); }, fast(), progress);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, "JobNotFound");
}

TEST(Waiter, GivesUpAfterTheTimeout) {
  WaitOptions o = fast();
  o.timeout_seconds = 0.05;
  std::ostringstream progress;
  auto r = wait_until_settled(
      [] {
        return Result<WaitState>(WaitState{{.running = 1}, false, ""});
      },
      o, progress);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "WaitTimedOut");
  EXPECT_EQ(progress.str().back(), '\n');
}

}  // namespace
}  // namespace openbatch::cli
