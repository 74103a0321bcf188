// A gang's instance rows (subtask_rows.hpp): what dispatch writes, and how coordination and
// completion reports change one row -- never another dispatch's.
#include "scheduler/domain/subtask_rows.hpp"

#include "common/time.hpp"
#include "scheduler/domain/gang_execution.hpp"

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

std::vector<SubtaskRow> rows() {
  const std::string primary = "j:mpi:7:1";
  return gang_rows("j", "mpi", targets(),
                   {primary, instance_attempt_id(primary, 1), instance_attempt_id(primary, 2)},
                   kT0);
}

TEST(SubtaskRows, DispatchWritesOneRowPerInstanceTheSubtasksOnTheirNodes) {
  const auto r = rows();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].subtask_id, 0);
  EXPECT_EQ(subtask_info_of(r[0].body), nullptr);  // the primary is the task itself
  EXPECT_EQ(r[0].body["attemptId"], "j:mpi:7:1");
  const json* sub = subtask_info_of(r[2].body);
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ((*sub)["id"], 2);
  EXPECT_EQ((*sub)["state"], "preparing");
  EXPECT_EQ((*sub)["startTime"], format_iso8601(kT0));
  EXPECT_EQ((*sub)["nodeInfo"]["nodeId"], "n2");
  EXPECT_EQ((*sub)["nodeInfo"]["affinityId"], "TVM:n2");
  EXPECT_EQ((*sub)["nodeInfo"]["taskRootDirectory"], "workitems/j/job-1/mpi/2");
  EXPECT_EQ((*sub)["nodeInfo"]["taskRootDirectoryUrl"],
            "http://a/pools/p/nodes/n2/files/workitems/j/job-1/mpi/2");
  for (const auto& row : r) {
    EXPECT_EQ(row.state, "preparing");
    EXPECT_EQ(row_state(row.body), "preparing");
  }
}

TEST(SubtaskRows, CoordinationMarksItsOwnRowOnceAndNotAnotherDispatchs) {
  auto r = rows();
  json& row = r[2].body;
  EXPECT_FALSE(row_coordinated(row, "j:mpi:7:1:s2"));
  EXPECT_FALSE(mark_row_coordinated(row, "j:mpi:6:1:s2", kT1));  // an older dispatch's
  EXPECT_TRUE(mark_row_coordinated(row, "j:mpi:7:1:s2", kT1));
  EXPECT_FALSE(mark_row_coordinated(row, "j:mpi:7:1:s2", kT1));  // once
  EXPECT_TRUE(row_coordinated(row, "j:mpi:7:1:s2"));
  EXPECT_FALSE(row_coordinated(row, "j:mpi:6:1:s2"));
  EXPECT_EQ((*subtask_info_of(row))["state"], "running");
  EXPECT_EQ((*subtask_info_of(row))["previousState"], "preparing");
  EXPECT_EQ(row_state(row), "running");
  // The primary's row has no subtask: coordination alone moves its state.
  EXPECT_TRUE(mark_row_coordinated(r[0].body, "j:mpi:7:1", kT1));
  EXPECT_EQ(row_state(r[0].body), "running");
}

TEST(SubtaskRows, ASubtaskTakesItsOwnOutcomeOnce) {
  auto r = rows();
  protocol::Report report;
  report.attempt_id = "j:mpi:7:1:s1";
  report.state = protocol::AttemptState::Completed;
  report.exit_code = 0;
  report.result = protocol::TaskResult::Success;
  report.end_time = "2026-11-21T10:00:09Z";
  EXPECT_FALSE(complete_row(r[1].body, "j:mpi:6:1:s1", report, kT1));  // another dispatch's
  EXPECT_TRUE(complete_row(r[1].body, report.attempt_id, report, kT1));
  EXPECT_FALSE(complete_row(r[1].body, report.attempt_id, report, kT1));  // once
  EXPECT_FALSE(complete_row(r[0].body, "j:mpi:7:1", report, kT1));        // the primary is the task
  const json& sub = *subtask_info_of(r[1].body);
  EXPECT_EQ(sub["state"], "completed");
  EXPECT_EQ(sub["exitCode"], 0);
  EXPECT_EQ(sub["result"], "success");
  EXPECT_EQ(sub["endTime"], "2026-11-21T10:00:09Z");
  EXPECT_FALSE(sub.contains("failureInfo"));
  EXPECT_EQ(row_state(r[1].body), "completed");
}

TEST(SubtaskRows, ARowCostsTheSameForAnyGangSize) {
  std::vector<DispatchTarget> many;
  std::vector<std::string> ids;
  for (int k = 0; k < 1000; ++k) {
    many.push_back({"p", "n" + std::to_string(k), "http://a/pools/p/nodes/n" + std::to_string(k)});
    ids.push_back(instance_attempt_id("j:big:1:1", k));
  }
  const auto big = gang_rows("j", "big", many, ids, kT0);
  ASSERT_EQ(big.size(), 1000u);
  // One instance's row is as small as in a 3-instance gang: it holds no other instance.
  EXPECT_LT(big[999].body.dump().size(), 600u);
  EXPECT_EQ((*subtask_info_of(big[999].body))["id"], 999);
}

}  // namespace
}  // namespace openbatch::domain
