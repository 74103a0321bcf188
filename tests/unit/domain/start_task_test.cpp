// Tests of the start task rules (batch-api.md sections 2 and 12): required command line,
// resource files, environment settings, user identity, retries, waitForSuccess and the
// 32768-character cap. Checked through validate_pool_patch, which validates nothing else.
#include "scheduler/domain/pool_validation.hpp"
#include "tests/unit/domain/test_support.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

using testing::error_of;
using testing::is_invalid;
using testing::is_missing;
using testing::json;

Result<json> with_start_task(json start_task) {
  return validate_pool_patch({{"startTask", std::move(start_task)}});
}

json accepted(json start_task) {
  auto r = with_start_task(std::move(start_task));
  EXPECT_TRUE(r.has_value()) << (r ? ""
                                   : r.error().detail("PropertyName") + " " +
                                         r.error().detail("Reason"));
  return r ? (*r)["startTask"] : json();
}

TEST(StartTask, NeedsACommandLineAndFillsDefaults) {
  json t = accepted({{"commandLine", "/bin/sh -c 'nvidia-smi'"}});
  EXPECT_EQ(t["commandLine"], "/bin/sh -c 'nvidia-smi'");
  EXPECT_EQ(t["maxTaskRetryCount"], 0);
  EXPECT_EQ(t["waitForSuccess"], true);
  EXPECT_FALSE(t.contains("userIdentity"));
  EXPECT_TRUE(is_missing(error_of(with_start_task(json::object())), "startTask.commandLine"));
  EXPECT_TRUE(
      is_invalid(error_of(with_start_task({{"commandLine", ""}})), "startTask.commandLine"));
  EXPECT_TRUE(is_invalid(error_of(with_start_task("echo")), "startTask"));
}

TEST(StartTask, AcceptsRetriesFromMinusOne) {
  EXPECT_EQ(accepted({{"commandLine", "x"}, {"maxTaskRetryCount", -1}})["maxTaskRetryCount"], -1);
  EXPECT_EQ(accepted({{"commandLine", "x"}, {"waitForSuccess", false}})["waitForSuccess"], false);
  EXPECT_TRUE(
      is_invalid(error_of(with_start_task({{"commandLine", "x"}, {"maxTaskRetryCount", -2}})),
                 "startTask.maxTaskRetryCount"));
  EXPECT_TRUE(
      is_invalid(error_of(with_start_task({{"commandLine", "x"}, {"waitForSuccess", "yes"}})),
                 "startTask.waitForSuccess"));
}

TEST(StartTask, TakesAnAutoUserWithCanonicalScopeAndElevation) {
  json t = accepted(
      {{"commandLine", "x"},
       {"userIdentity", {{"autoUser", {{"scope", "Pool"}, {"elevationLevel", "Admin"}}}}}});
  EXPECT_EQ(t["userIdentity"],
            json({{"autoUser", {{"scope", "pool"}, {"elevationLevel", "admin"}}}}));
  t = accepted({{"commandLine", "x"}, {"userIdentity", {{"autoUser", json::object()}}}});
  EXPECT_EQ(t["userIdentity"]["autoUser"],
            json({{"scope", "pool"}, {"elevationLevel", "nonadmin"}}));
  auto e = error_of(with_start_task(
      {{"commandLine", "x"}, {"userIdentity", {{"autoUser", {{"elevationLevel", "root"}}}}}}));
  EXPECT_TRUE(is_invalid(e, "startTask.userIdentity.autoUser.elevationLevel"));
  EXPECT_EQ(e.detail("PropertyValue"), "root");
  EXPECT_TRUE(
      is_invalid(error_of(with_start_task({{"commandLine", "x"},
                                           {"userIdentity", {{"autoUser", {{"scope", "node"}}}}}})),
                 "startTask.userIdentity.autoUser.scope"));
}

TEST(StartTask, TakesUsernameOrAutoUserButNotBoth) {
  EXPECT_EQ(accepted({{"commandLine", "x"},
                      {"userIdentity", {{"username", "mpiuser"}}}})["userIdentity"]["username"],
            "mpiuser");
  EXPECT_TRUE(is_invalid(
      error_of(
          with_start_task({{"commandLine", "x"},
                           {"userIdentity", {{"username", "u"}, {"autoUser", json::object()}}}})),
      "startTask.userIdentity"));
  EXPECT_TRUE(is_invalid(
      error_of(with_start_task({{"commandLine", "x"}, {"userIdentity", json::object()}})),
      "startTask.userIdentity"));
}

TEST(StartTask, NeedsExactlyOneSourcePerResourceFile) {
  json ok = accepted(
      {{"commandLine", "x"},
       {"resourceFiles",
        {{{"httpUrl", "https://h/driver.run"}, {"filePath", "driver.run"}, {"fileMode", "0755"}},
         {{"storageContainerUrl", "https://acct.blob/c?sas"}, {"blobPrefix", "in/"}},
         {{"autoStorageContainerName", "inputs"}, {"filePath", "data"}}}}});
  EXPECT_EQ(ok["resourceFiles"].size(), 3u);
  EXPECT_EQ(ok["resourceFiles"][0]["fileMode"], "0755");

  auto refused = [](json file) {
    return error_of(with_start_task({{"commandLine", "x"}, {"resourceFiles", {std::move(file)}}}));
  };
  EXPECT_TRUE(
      is_missing(refused({{"httpUrl", "https://h/f"}}), "startTask.resourceFiles[0].filePath"));
  EXPECT_TRUE(is_invalid(refused({{"filePath", "f"}}), "startTask.resourceFiles[0]"));
  EXPECT_TRUE(is_invalid(
      refused({{"httpUrl", "https://h/f"}, {"filePath", "f"}, {"autoStorageContainerName", "c"}}),
      "startTask.resourceFiles[0]"));
  EXPECT_TRUE(
      is_invalid(refused({{"httpUrl", "https://h/f"}, {"filePath", "f"}, {"blobPrefix", "a"}}),
                 "startTask.resourceFiles[0].blobPrefix"));
  for (auto path : {"../escape", "/etc/passwd", "a/../../b", "C:\\x", "\\\\server\\share"}) {
    EXPECT_TRUE(is_invalid(refused({{"httpUrl", "https://h/f"}, {"filePath", path}}),
                           "startTask.resourceFiles[0].filePath"))
        << path;
  }
  for (auto mode : {"999", "7", "rwx", "07777"}) {
    EXPECT_TRUE(
        is_invalid(refused({{"httpUrl", "https://h/f"}, {"filePath", "f"}, {"fileMode", mode}}),
                   "startTask.resourceFiles[0].fileMode"))
        << mode;
  }
}

TEST(StartTask, NeedsANameForEveryEnvironmentSetting) {
  json t = accepted({{"commandLine", "x"},
                     {"environmentSettings",
                      {{{"name", "CUDA_VISIBLE_DEVICES"}, {"value", "0"}}, {{"name", "EMPTY"}}}}});
  EXPECT_EQ(t["environmentSettings"][1], json({{"name", "EMPTY"}}));
  EXPECT_TRUE(is_missing(error_of(with_start_task(
                             {{"commandLine", "x"}, {"environmentSettings", {{{"value", "1"}}}}})),
                         "startTask.environmentSettings[0].name"));
  EXPECT_TRUE(is_invalid(error_of(with_start_task(
                             {{"commandLine", "x"}, {"environmentSettings", {{{"name", "A=B"}}}}})),
                         "startTask.environmentSettings[0].name"));
}

TEST(StartTask, IsCappedAt32768CharactersInTotal) {
  const std::string half(16384, 'x');
  json t = {{"commandLine", half},
            {"environmentSettings", {{{"name", "V"}, {"value", std::string(16383, 'y')}}}}};
  EXPECT_TRUE(with_start_task(t));  // exactly 32768
  t["environmentSettings"][0]["value"] = std::string(16384, 'y');
  auto e = error_of(with_start_task(t));
  EXPECT_TRUE(is_invalid(e, "startTask"));
  EXPECT_NE(e.detail("Reason").find("32768"), std::string::npos);
  EXPECT_TRUE(is_invalid(error_of(with_start_task({{"commandLine", std::string(32769, 'x')}})),
                         "startTask.commandLine"));
}

TEST(StartTask, ChecksContainerSettings) {
  json t = accepted({{"commandLine", "x"},
                     {"containerSettings",
                      {{"imageName", "nvcr.io/nvidia/pytorch:24.01-py3"},
                       {"workingDirectory", "containerimagedefault"}}}});
  EXPECT_EQ(t["containerSettings"]["workingDirectory"], "containerImageDefault");
  EXPECT_TRUE(is_missing(
      error_of(with_start_task({{"commandLine", "x"}, {"containerSettings", json::object()}})),
      "startTask.containerSettings.imageName"));
}

}  // namespace
}  // namespace openbatch::domain
