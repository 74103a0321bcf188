// Task execution transitions (dispatch, completion with retries, requeue) and the assignment
// an agent receives, as pure functions of the stored task JSON.
#include "scheduler/domain/task_execution.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));

json active_task(int max_retries = 0) {
  return json::parse(
      R"({"id":"t1","state":"active","stateTransitionTime":"2023-11-14T22:13:00.0000000Z",
    "commandLine":"/bin/sh -c 'echo hi'","requiredSlots":2,
    "environmentSettings":[{"name":"A","value":"1"}],
    "userIdentity":{"autoUser":{"scope":"pool","elevationLevel":"admin"}},
    "constraints":{"maxWallClockTime":"PT1M","retentionTime":"P7D","maxTaskRetryCount":)" +
      std::to_string(max_retries) + R"(},
    "executionInfo":{"retryCount":0,"requeueCount":0}})");
}

const DispatchTarget kTarget{"pool", "tvmps_1", "http://h/pools/pool/nodes/tvmps_1"};

protocol::Report completed(int exit_code) {
  protocol::Report r;
  r.attempt_id = "job:t1:7:1";
  r.state = protocol::AttemptState::Completed;
  r.exit_code = exit_code;
  r.start_time = "2023-11-14T22:13:20.0000000Z";
  r.end_time = "2023-11-14T22:13:21.0000000Z";
  r.result = exit_code == 0 ? protocol::TaskResult::Success : protocol::TaskResult::Failure;
  if (exit_code != 0)
    r.failure_info =
        protocol::FailureInfo{protocol::ErrorCategory::UserError, "FailureExitCode", "exit"};
  return r;
}

TEST(AttemptIds, AreUniquePerDispatchAndPerTaskRecord) {
  json task = active_task();
  const std::string first = next_attempt_id(task, "job", 7);
  EXPECT_EQ(first, "job:t1:7:1");
  json running = dispatch_task(task, "job", kTarget, first, kNow);
  EXPECT_EQ(current_attempt_id(running), first);
  json again = requeue_task(running, kNow);
  EXPECT_EQ(current_attempt_id(again), "");
  EXPECT_EQ(next_attempt_id(again, "job", 7), "job:t1:7:2")
      << "a requeued task gets a new attempt id";
  EXPECT_EQ(next_attempt_id(active_task(), "job", 8), "job:t1:8:1")
      << "a re-added task id never reuses an attempt id";
}

TEST(Dispatch, MovesToRunningWithNodeInfo) {
  json running = dispatch_task(active_task(), "job", kTarget, "job:t1:7:1", kNow);
  EXPECT_EQ(running["state"], "running");
  EXPECT_EQ(running["previousState"], "active");
  EXPECT_EQ(running["executionInfo"]["startTime"], format_iso8601(kNow));
  EXPECT_EQ(running["nodeInfo"]["nodeId"], "tvmps_1");
  EXPECT_EQ(running["nodeInfo"]["poolId"], "pool");
  EXPECT_EQ(running["nodeInfo"]["affinityId"], "TVM:tvmps_1");
  EXPECT_EQ(running["nodeInfo"]["taskRootDirectory"], "workitems/job/job-1/t1");
  EXPECT_EQ(running["nodeInfo"]["taskRootDirectoryUrl"],
            "http://h/pools/pool/nodes/tvmps_1/files/workitems/job/job-1/t1");
}

TEST(Completion, SuccessCompletesWithTheAgentsTimes) {
  json running = dispatch_task(active_task(), "job", kTarget, "job:t1:7:1", kNow);
  CompletionOutcome outcome;
  json done = complete_task(running, completed(0), kNow, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Completed);
  EXPECT_EQ(done["state"], "completed");
  EXPECT_EQ(done["executionInfo"]["exitCode"], 0);
  EXPECT_EQ(done["executionInfo"]["result"], "success");
  EXPECT_EQ(done["executionInfo"]["startTime"], "2023-11-14T22:13:20.0000000Z");
  EXPECT_EQ(done["executionInfo"]["endTime"], "2023-11-14T22:13:21.0000000Z");
  EXPECT_FALSE(done["executionInfo"].contains("failureInfo"));
  EXPECT_EQ(current_attempt_id(done), "");
}

TEST(Completion, ExitFailureIsRetriedWhileRetriesRemain) {
  json running = dispatch_task(active_task(1), "job", kTarget, "job:t1:7:1", kNow);
  CompletionOutcome outcome;
  json retried = complete_task(running, completed(3), kNow, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Retried);
  EXPECT_EQ(retried["state"], "active");
  EXPECT_EQ(retried["executionInfo"]["retryCount"], 1);
  EXPECT_TRUE(retried["executionInfo"].contains("lastRetryTime"));
  EXPECT_FALSE(retried.contains("nodeInfo"));
  EXPECT_FALSE(retried["executionInfo"].contains("exitCode"));

  json second = dispatch_task(retried, "job", kTarget, "job:t1:7:2", kNow);
  json failed = complete_task(second, completed(3), kNow, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Completed);
  EXPECT_EQ(failed["executionInfo"]["result"], "failure");
  EXPECT_EQ(failed["executionInfo"]["exitCode"], 3);
  EXPECT_EQ(failed["executionInfo"]["retryCount"], 1);
  EXPECT_EQ(failed["executionInfo"]["failureInfo"]["code"], "FailureExitCode");
  EXPECT_EQ(failed["executionInfo"]["failureInfo"]["category"], "usererror");
}

TEST(Completion, UnlimitedRetriesAndNonExitFailuresAreNotRetried) {
  CompletionOutcome outcome;
  json running = dispatch_task(active_task(-1), "job", kTarget, "a", kNow);
  complete_task(running, completed(1), kNow, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Retried) << "-1 retries without limit";

  protocol::Report wall = completed(137);
  wall.failure_info->code = "MaxWallClockTimeExpiry";
  json killed = complete_task(running, wall, kNow, outcome);
  EXPECT_EQ(outcome, CompletionOutcome::Completed) << "only exit-code failures are retried";
  EXPECT_EQ(killed["executionInfo"]["failureInfo"]["code"], "MaxWallClockTimeExpiry");
}

TEST(Requeue, CountsRequeuesNotRetries) {
  json running = dispatch_task(active_task(), "job", kTarget, "a", kNow);
  json requeued = requeue_task(running, kNow);
  EXPECT_EQ(requeued["state"], "active");
  EXPECT_EQ(requeued["executionInfo"]["requeueCount"], 1);
  EXPECT_EQ(requeued["executionInfo"]["retryCount"], 0);
  EXPECT_TRUE(requeued["executionInfo"].contains("lastRequeueTime"));
  EXPECT_FALSE(requeued.contains("nodeInfo"));
}

TEST(Assignment, CarriesWhatTheAgentNeeds) {
  json running = dispatch_task(active_task(2), "job", kTarget, "job:t1:7:1", kNow);
  json job_env = json::array({{{"name", "J"}, {"value", "j"}}});
  auto a = make_assignment(running, "job", job_env, "job:t1:7:1");
  EXPECT_EQ(a.attempt_id, "job:t1:7:1");
  EXPECT_EQ(a.job_id, "job");
  EXPECT_EQ(a.task_id, "t1");
  EXPECT_EQ(a.command_line, "/bin/sh -c 'echo hi'");
  ASSERT_EQ(a.environment.size(), 1u);
  EXPECT_EQ(a.environment[0].name, "A");
  ASSERT_EQ(a.job_environment.size(), 1u);
  EXPECT_EQ(a.job_environment[0].name, "J");
  EXPECT_EQ(a.user_identity["autoUser"]["elevationLevel"], "admin");
  EXPECT_EQ(a.constraints.max_wall_clock_time, "PT1M");
  EXPECT_EQ(a.constraints.max_task_retry_count, 2);
  EXPECT_EQ(a.required_slots, 2);
  // It encodes to a frame the agent can decode.
  auto frame = protocol::encode(protocol::Message{1, a});
  auto decoded = protocol::decode(frame);
  ASSERT_TRUE(decoded) << decoded.error().message;
}

}  // namespace
}  // namespace openbatch::domain
