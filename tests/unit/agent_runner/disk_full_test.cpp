// DiskFull: a failed attempt on a full node filesystem says so; other outcomes stay.
#include "node_agent/runner/disk_full.hpp"

#include "node_agent/runner/attempt_reports.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::runner {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

TEST(DiskFull, FullIsBelowAThirtySecondWithinBounds) {
  EXPECT_TRUE(filesystem_full({20 * kMiB, 0}));
  EXPECT_TRUE(filesystem_full({20 * kMiB, 320 * 1024}));  // after a scheduler's reserve went
  EXPECT_FALSE(filesystem_full({20 * kMiB, 2 * kMiB}));
  EXPECT_TRUE(filesystem_full({1024 * 1024 * kMiB, 63 * kMiB}));  // 1 TiB: 64 MiB cap
  EXPECT_FALSE(filesystem_full({1024 * 1024 * kMiB, 65 * kMiB}));
  EXPECT_FALSE(filesystem_full({0, 0}));  // unknown
}

TEST(DiskFull, AFailingExitOnAFullDiskIsDiskFull) {
  auto r = completed_report("a", 1, "s", "e", KillReason::None, "", std::nullopt);
  ASSERT_TRUE(r.failure_info);
  classify_disk_full(r, "/data/nodes/p/n", FilesystemSpace{20 * kMiB, 4096});
  ASSERT_TRUE(r.failure_info);
  EXPECT_EQ(r.failure_info->code, "DiskFull");
  EXPECT_EQ(r.failure_info->category, protocol::ErrorCategory::UserError);
  EXPECT_NE(r.failure_info->message.find("/data/nodes/p/n"), std::string::npos);
  EXPECT_NE(r.failure_info->message.find("0.0 MiB free of 20.0 MiB"), std::string::npos);
  EXPECT_EQ(r.result, protocol::TaskResult::Failure);
  EXPECT_EQ(r.exit_code, 1);
}

TEST(DiskFull, APreparationFailureOnAFullDiskIsDiskFull) {
  auto r = failed_to_start_report(
      "a", Error(500, "TaskPreparationFailed", "mkdir wd: No space left on device"), std::nullopt,
      "e");
  classify_disk_full(r, "/n", FilesystemSpace{20 * kMiB, 0});
  EXPECT_EQ(r.failure_info->code, "DiskFull");
  EXPECT_NE(r.failure_info->message.find("No space left on device"), std::string::npos);
}

TEST(DiskFull, OtherOutcomesStayWhatTheyAre) {
  const FilesystemSpace full{20 * kMiB, 0};
  auto ok = completed_report("a", 0, "s", "e", KillReason::None, "", std::nullopt);
  classify_disk_full(ok, "/n", full);
  EXPECT_FALSE(ok.failure_info);
  EXPECT_EQ(ok.result, protocol::TaskResult::Success);
  auto timeout = completed_report("a", 137, "s", "e", KillReason::WallClock, "PT1S", std::nullopt);
  classify_disk_full(timeout, "/n", full);
  EXPECT_EQ(timeout.failure_info->code, "MaxWallClockTimeExpiry");
  auto roomy = completed_report("a", 1, "s", "e", KillReason::None, "", std::nullopt);
  classify_disk_full(roomy, "/n", FilesystemSpace{20 * kMiB, 10 * kMiB});
  EXPECT_EQ(roomy.failure_info->code, "FailureExitCode");
  classify_disk_full(roomy, "/n", std::nullopt);
  EXPECT_EQ(roomy.failure_info->code, "FailureExitCode");
}

}  // namespace
}  // namespace openbatch::agent::runner
