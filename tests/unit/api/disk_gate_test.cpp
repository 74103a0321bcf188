// The low-disk refusal: writes that add data are refused, reads, deletes and the actions that
// stop work are not.
#include "scheduler/api/disk_gate.hpp"

#include <gtest/gtest.h>

namespace openbatch::api {
namespace {

using Segments = std::vector<std::string>;

TEST(DiskGate, RefusesCreatesAddsUpdatesAndUploads) {
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"jobs"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"pools"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"jobs", "j", "tasks"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"jobs", "j", "addtaskcollection"}));
  EXPECT_TRUE(refused_when_disk_low("PUT", Segments{"jobs", "j"}));
  EXPECT_TRUE(refused_when_disk_low("PATCH", Segments{"pools", "p"}));
  EXPECT_TRUE(refused_when_disk_low("PUT", Segments{"applications", "a", "versions", "1"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"jobs", "j", "enable"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"jobs", "j", "tasks", "t", "reactivate"}));
  EXPECT_TRUE(refused_when_disk_low("POST", Segments{"pools", "p", "resize"}));
}

TEST(DiskGate, LetsReadsDeletesAndStoppingActionsThrough) {
  EXPECT_FALSE(refused_when_disk_low("GET", Segments{"jobs"}));
  EXPECT_FALSE(refused_when_disk_low("HEAD", Segments{"jobs", "j"}));
  EXPECT_FALSE(refused_when_disk_low("DELETE", Segments{"jobs", "j"}));
  EXPECT_FALSE(
      refused_when_disk_low("delete", Segments{"jobs", "j", "tasks", "t", "files", "stdout.txt"}));
  EXPECT_FALSE(refused_when_disk_low("POST", Segments{"jobs", "j", "terminate"}));
  EXPECT_FALSE(refused_when_disk_low("POST", Segments{"jobs", "j", "tasks", "t", "Terminate"}));
  EXPECT_FALSE(refused_when_disk_low("POST", Segments{"jobs", "j", "disable"}));
  EXPECT_FALSE(refused_when_disk_low("POST", Segments{"pools", "p", "removenodes"}));
  EXPECT_FALSE(refused_when_disk_low("POST", Segments{"pools", "p", "stopresize"}));
  EXPECT_FALSE(
      refused_when_disk_low("POST", Segments{"pools", "p", "nodes", "n", "disablescheduling"}));
}

}  // namespace
}  // namespace openbatch::api
