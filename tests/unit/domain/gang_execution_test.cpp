// Multi-instance task transitions on the stored task JSON (gang_execution.hpp).
#include "scheduler/domain/gang_execution.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

const TimePoint kT0 = *try_parse_iso8601("2026-11-21T10:00:00Z");
const TimePoint kT1 = *try_parse_iso8601("2026-11-21T10:00:05Z");

std::vector<DispatchTarget> targets() {
  return {{"p", "n0", "http://a/pools/p/nodes/n0"},
          {"p", "n1", "http://a/pools/p/nodes/n1"},
          {"p", "n2", "http://a/pools/p/nodes/n2"}};
}

json running_gang() {
  json task = {
      {"id", "mpi"},
      {"state", "active"},
      {"commandLine", "mpirun hello"},
      {"multiInstanceSettings", {{"numberOfInstances", 3}, {"coordinationCommandLine", "true"}}}};
  const std::string primary = next_attempt_id(task, "j", 7);
  std::vector<std::string> ids{primary, instance_attempt_id(primary, 1),
                               instance_attempt_id(primary, 2)};
  task = dispatch_task(std::move(task), "j", targets()[0], primary, kT0);
  return dispatch_gang(std::move(task), "j", targets(), ids, kT0);
}

TEST(GangExecution, InstanceAttemptIdsRoundTrip) {
  EXPECT_EQ(instance_attempt_id("j:t:7:1", 0), "j:t:7:1");
  EXPECT_EQ(instance_attempt_id("j:t:7:1", 2), "j:t:7:1:s2");
  auto ref = parse_instance_attempt_id("j:t:7:1:s2");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->primary, "j:t:7:1");
  EXPECT_EQ(ref->subtask_id, 2);
  EXPECT_FALSE(parse_instance_attempt_id("j:t:7:1"));
  EXPECT_FALSE(parse_instance_attempt_id("j:t:7:1:s"));
  EXPECT_FALSE(parse_instance_attempt_id("j:t:7:1:s0"));
  EXPECT_FALSE(parse_instance_attempt_id("j:t:7:1:s2x"));
}

TEST(GangExecution, DispatchListsTheSubtasksOnTheirNodes) {
  const json task = running_gang();
  EXPECT_EQ(task["state"], "running");
  EXPECT_EQ(task["nodeInfo"]["nodeId"], "n0");
  const json& subtasks = task["openbatch"]["subtasks"];
  ASSERT_EQ(subtasks.size(), 2u);
  EXPECT_EQ(subtasks[0]["id"], 1);
  EXPECT_EQ(subtasks[0]["state"], "preparing");
  EXPECT_EQ(subtasks[0]["nodeInfo"]["nodeId"], "n1");
  EXPECT_EQ(subtasks[1]["nodeInfo"]["taskRootDirectory"], "workitems/j/job-1/mpi/2");
  EXPECT_EQ(subtasks[1]["nodeInfo"]["taskRootDirectoryUrl"],
            "http://a/pools/p/nodes/n2/files/workitems/j/job-1/mpi/2");
  EXPECT_EQ(task["openbatch"]["gang"]["attempts"][2], "j:mpi:7:1:s2");
  EXPECT_EQ(gang_instance_of(task, "j:mpi:7:1"), 0);
  EXPECT_EQ(gang_instance_of(task, "j:mpi:7:1:s1"), 1);
  EXPECT_EQ(gang_instance_of(task, "j:mpi:7:2:s1"), std::nullopt);
}

TEST(GangExecution, AllCoordinatedOnlyOnceEveryInstanceIs) {
  json task = running_gang();
  EXPECT_FALSE(all_coordinated(task));
  EXPECT_TRUE(mark_coordinated(task, "j:mpi:7:1:s2", kT1));
  EXPECT_FALSE(mark_coordinated(task, "j:mpi:7:1:s2", kT1));  // once
  EXPECT_FALSE(mark_coordinated(task, "j:mpi:6:1:s2", kT1));  // another attempt's
  EXPECT_EQ(task["openbatch"]["subtasks"][1]["state"], "running");
  EXPECT_EQ(task["openbatch"]["subtasks"][1]["previousState"], "preparing");
  EXPECT_EQ(task["openbatch"]["subtasks"][0]["state"], "preparing");
  EXPECT_TRUE(mark_coordinated(task, "j:mpi:7:1", kT1));
  EXPECT_FALSE(all_coordinated(task));
  EXPECT_TRUE(mark_coordinated(task, "j:mpi:7:1:s1", kT1));
  EXPECT_TRUE(all_coordinated(task));
}

TEST(GangExecution, ASubtaskTakesItsOwnOutcome) {
  json task = running_gang();
  protocol::Report report;
  report.attempt_id = "j:mpi:7:1:s1";
  report.state = protocol::AttemptState::Completed;
  report.exit_code = 0;
  report.result = protocol::TaskResult::Success;
  report.end_time = "2026-11-21T10:00:09Z";
  EXPECT_TRUE(complete_subtask(task, report.attempt_id, report, kT1));
  EXPECT_FALSE(complete_subtask(task, report.attempt_id, report, kT1));  // once
  EXPECT_FALSE(complete_subtask(task, "j:mpi:7:1", report, kT1));        // the primary is the task
  const json& sub = task["openbatch"]["subtasks"][0];
  EXPECT_EQ(sub["state"], "completed");
  EXPECT_EQ(sub["exitCode"], 0);
  EXPECT_EQ(sub["result"], "success");
  EXPECT_EQ(sub["endTime"], "2026-11-21T10:00:09Z");
  EXPECT_FALSE(sub.contains("failureInfo"));
}

TEST(GangExecution, AFailedSubtaskFailsTheTaskKeepingItsCodeSoItIsRetried) {
  protocol::Report sub;
  sub.attempt_id = "j:mpi:7:1:s2";
  sub.state = protocol::AttemptState::Completed;
  sub.exit_code = 7;
  sub.result = protocol::TaskResult::Failure;
  sub.end_time = "2026-11-21T10:00:09Z";
  sub.failure_info =
      protocol::FailureInfo{protocol::ErrorCategory::UserError, "FailureExitCode",
                            "The task exited with an exit code representing a failure"};
  const protocol::Report decisive = gang_failure_report(sub, 2, "n2");
  EXPECT_EQ(decisive.result, protocol::TaskResult::Failure);
  EXPECT_EQ(decisive.exit_code, 7);
  EXPECT_EQ(decisive.failure_info->code, "FailureExitCode");
  EXPECT_EQ(decisive.failure_info->message.rfind("Subtask 2 on node n2 failed: ", 0), 0u);

  // Retried as a unit while retries remain.
  json task = running_gang();
  task["constraints"] = {{"maxTaskRetryCount", 1}};
  CompletionOutcome outcome = CompletionOutcome::Completed;
  json next = complete_task(task, decisive, kT1, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Retried);
  EXPECT_EQ(next["state"], "active");
  EXPECT_EQ(next["executionInfo"]["retryCount"], 1);
  // The last attempt's subtasks stay readable; its late reports still land.
  EXPECT_EQ(gang_instance_of(next, "j:mpi:7:1:s1"), 1);

  // A subtask that ended without a failure of its own still fails the task, not retried.
  sub.result = protocol::TaskResult::Success;
  sub.failure_info.reset();
  sub.exit_code = 0;
  const protocol::Report ended = gang_failure_report(sub, 1, "n1");
  EXPECT_EQ(ended.failure_info->code, "SubtaskEnded");
  EXPECT_EQ(ended.failure_info->category, protocol::ErrorCategory::ServerError);
}

}  // namespace
}  // namespace openbatch::domain
