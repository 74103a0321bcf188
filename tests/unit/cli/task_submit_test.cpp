// The per-task outcome of an addtaskcollection reply (results arrive in any order).
#include "cli/task_submit.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

TEST(BatchOutcome, CountsSuccessesAndKeepsEachFailureWithItsError) {
  const std::string reply = R"({"value":[
    {"status":"success","taskId":"t3"},
    {"status":"clienterror","taskId":"t2","error":{"code":"TaskExists",
       "message":{"lang":"en-US","value":"The specified task already exists.\nRequestId:x"}}},
    {"status":"success","taskId":"T1"}]})";
  const SubmitReport r = batch_outcome({"t1", "t2", "t3"}, reply);
  EXPECT_EQ(r.added, 2u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].task_id, "t2");
  EXPECT_EQ(r.failures[0].error.code, "TaskExists");
  EXPECT_EQ(r.failures[0].error.message, "The specified task already exists.");
  EXPECT_EQ(r.failures[0].error.status, 0);
}

TEST(BatchOutcome, TasksMissingFromTheReplyFail) {
  const SubmitReport r =
      batch_outcome({"a", "b"}, R"({"value":[{"status":"success","taskId":"a"}]})");
  EXPECT_EQ(r.added, 1u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].task_id, "b");
  EXPECT_EQ(r.failures[0].error.code, "MissingTaskAddResult");
  const SubmitReport garbage = batch_outcome({"a"}, "not json");
  EXPECT_EQ(garbage.added, 0u);
  ASSERT_EQ(garbage.failures.size(), 1u);
}

TEST(BatchOutcome, ServerErrorWithoutDetailsStillNamesItsStatus) {
  const SubmitReport r =
      batch_outcome({"a"}, R"({"value":[{"status":"servererror","taskId":"a"}]})");
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].error.code, "servererror");
}

}  // namespace
}  // namespace openbatch::cli
