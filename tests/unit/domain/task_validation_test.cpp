// Tests of task add and update validation (batch-api.md sections 5 and 11), against jobs as
// validate_job_add stores them.
#include "scheduler/domain/task_validation.hpp"

#include "scheduler/domain/job_validation.hpp"
#include "tests/unit/domain/test_support.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

using testing::error_of;
using testing::is_invalid;
using testing::is_missing;
using testing::json;

json job(json extra = json::object()) {
  json body = {{"id", "job1"}, {"poolInfo", {{"poolId", "pool1"}}}};
  body.update(extra);
  auto j = validate_job_add(body);
  EXPECT_TRUE(j.has_value());
  json stored = j ? *j : json::object();
  stored["state"] = "active";
  return stored;
}

json valid_task() { return {{"id", "task1"}, {"commandLine", "/bin/sh -c \"echo hello\""}}; }

json accepted(json body, const json& j = job()) {
  auto r = validate_task_add(std::move(body), j);
  EXPECT_TRUE(r.has_value()) << (r ? ""
                                   : r.error().code + " " + r.error().detail("PropertyName") + " " +
                                         r.error().detail("Reason"));
  return r ? *r : json();
}

Error refused(json body, const json& j = job()) {
  return error_of(validate_task_add(std::move(body), j));
}

TEST(TaskAdd, FillsAzureDefaults) {
  json t = accepted(valid_task());
  EXPECT_EQ(t["id"], "task1");
  EXPECT_EQ(t["commandLine"], "/bin/sh -c \"echo hello\"");
  EXPECT_EQ(t["requiredSlots"], 1);
  EXPECT_EQ(t["constraints"], json({{"maxWallClockTime", "P10675199DT2H48M5.4775807S"},
                                    {"retentionTime", "P7D"},
                                    {"maxTaskRetryCount", 0}}));
  EXPECT_FALSE(t.contains("multiInstanceSettings"));
  EXPECT_FALSE(t.contains("userIdentity"));
}

TEST(TaskAdd, TakesTheRetryDefaultFromTheJob) {
  json t = accepted(valid_task(), job({{"constraints", {{"maxTaskRetryCount", 3}}}}));
  EXPECT_EQ(t["constraints"]["maxTaskRetryCount"], 3);
  json own = valid_task();
  own["constraints"] = {{"maxTaskRetryCount", -1}, {"retentionTime", "PT0S"}};
  t = accepted(own, job({{"constraints", {{"maxTaskRetryCount", 3}}}}));
  EXPECT_EQ(t["constraints"]["maxTaskRetryCount"], -1);
  EXPECT_EQ(t["constraints"]["retentionTime"], "PT0S");
}

TEST(TaskAdd, NeedsIdAndCommandLine) {
  json body = valid_task();
  body.erase("id");
  EXPECT_TRUE(is_missing(refused(body), "id"));
  body = valid_task();
  body.erase("commandLine");
  EXPECT_TRUE(is_missing(refused(body), "commandLine"));
  body = valid_task();
  body["id"] = "task 1";
  EXPECT_TRUE(is_invalid(refused(body), "id"));
  body = valid_task();
  body["commandLine"] = std::string(32769, 'x');
  EXPECT_TRUE(is_invalid(refused(body), "commandLine"));
  body["commandLine"] = std::string(32768, 'x');
  EXPECT_TRUE(validate_task_add(body, job()));
  EXPECT_EQ(refused(json::array()).code, "InvalidRequestBody");
}

TEST(TaskAdd, RefusesTheIdsOfTheJobPreparationAndReleaseTasks) {
  const json with_prep = job(
      {{"jobPreparationTask", {{"commandLine", "x"}}}, {"jobReleaseTask", {{"commandLine", "y"}}}});
  json body = valid_task();
  body["id"] = "JobPreparation";
  auto e = refused(body, with_prep);
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.code, "TaskIdSameAsJobPreparationTask");
  body["id"] = "jobrelease";
  e = refused(body, with_prep);
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.code, "TaskIdSameAsJobReleaseTask");

  const json custom = job({{"jobPreparationTask", {{"id", "setup"}, {"commandLine", "x"}}}});
  body["id"] = "setup";
  EXPECT_EQ(refused(body, custom).code, "TaskIdSameAsJobPreparationTask");
  body["id"] = "jobpreparation";  // the default id is free when the job uses another one
  EXPECT_TRUE(validate_task_add(body, custom));
  EXPECT_TRUE(validate_task_add(body, job()));  // and when it has no preparation task at all
}

TEST(TaskAdd, NeedsOneSlotForAMultiInstanceTask) {
  json body = valid_task();
  body["multiInstanceSettings"] = {{"numberOfInstances", 4},
                                   {"coordinationCommandLine", "/bin/sh -c 'hostname'"}};
  json t = accepted(body);
  EXPECT_EQ(t["multiInstanceSettings"]["numberOfInstances"], 4);
  body["requiredSlots"] = 2;
  EXPECT_TRUE(is_invalid(refused(body), "requiredSlots"));
  body["requiredSlots"] = 1;
  body["multiInstanceSettings"]["numberOfInstances"] = 0;
  EXPECT_TRUE(is_invalid(refused(body), "multiInstanceSettings.numberOfInstances"));
  body["multiInstanceSettings"] = {{"numberOfInstances", 2}};
  EXPECT_TRUE(is_missing(refused(body), "multiInstanceSettings.coordinationCommandLine"));
  body["multiInstanceSettings"] = {{"coordinationCommandLine", "x"}};
  EXPECT_EQ(accepted(body)["multiInstanceSettings"]["numberOfInstances"], 1);
  body["multiInstanceSettings"]["commonResourceFiles"] = {{{"httpUrl", "https://h/f"}}};
  EXPECT_TRUE(is_missing(refused(body), "multiInstanceSettings.commonResourceFiles[0].filePath"));
}

TEST(TaskAdd, ChecksRequiredSlots) {
  json body = valid_task();
  body["requiredSlots"] = 4;
  EXPECT_EQ(accepted(body)["requiredSlots"], 4);
  body["requiredSlots"] = 0;
  EXPECT_TRUE(is_invalid(refused(body), "requiredSlots"));
}

TEST(TaskAdd, AllowsExitJobActionsOnlyWhenTheJobPerformsThem) {
  json body = valid_task();
  body["exitConditions"] = {
      {"exitCodes", {{{"code", 3}, {"exitOptions", {{"jobAction", "Terminate"}}}}}},
      {"exitCodeRanges",
       {{{"start", 10}, {"end", 20}, {"exitOptions", {{"dependencyAction", "Block"}}}}}},
      {"default", {{"jobAction", "none"}}}};
  auto e = refused(body);
  EXPECT_TRUE(is_invalid(e, "exitConditions.exitCodes[0].exitOptions.jobAction"));

  const json performing = job({{"onTaskFailure", "performexitoptionsjobaction"}});
  json t = accepted(body, performing);
  EXPECT_EQ(t["exitConditions"]["exitCodes"][0]["exitOptions"]["jobAction"], "terminate");
  EXPECT_EQ(t["exitConditions"]["exitCodeRanges"][0]["exitOptions"]["dependencyAction"], "block");

  body["exitConditions"]["exitCodes"][0]["exitOptions"]["jobAction"] = "explode";
  EXPECT_TRUE(
      is_invalid(refused(body, performing), "exitConditions.exitCodes[0].exitOptions.jobAction"));
  body["exitConditions"]["exitCodes"][0].erase("exitOptions");
  EXPECT_TRUE(is_missing(refused(body, performing), "exitConditions.exitCodes[0].exitOptions"));
  body["exitConditions"]["exitCodes"] = json::array();
  body["exitConditions"]["exitCodeRanges"][0]["start"] = 30;
  EXPECT_TRUE(is_invalid(refused(body, performing), "exitConditions.exitCodeRanges[0].end"));
}

TEST(TaskAdd, NeedsTaskDependenciesOnTheJobForDependsOn) {
  json body = valid_task();
  body["dependsOn"] = {{"taskIds", {"a", "b"}}};
  auto e = refused(body);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "TaskDependenciesNotSpecifiedOnJob");

  const json deps = job({{"usesTaskDependencies", true}});
  body["dependsOn"]["taskIdRanges"] = {{{"start", 1}, {"end", 100}}};
  json t = accepted(body, deps);
  EXPECT_EQ(t["dependsOn"]["taskIds"], json({"a", "b"}));
  EXPECT_EQ(t["dependsOn"]["taskIdRanges"][0]["end"], 100);
}

TEST(TaskAdd, RefusesADependencyListLongerThan64000Characters) {
  const json deps = job({{"usesTaskDependencies", true}});
  json ids = json::array();
  for (int i = 0; i < 1000; ++i) ids.push_back(std::string(64, 'a' + i % 26));  // 64000 chars
  json body = valid_task();
  body["dependsOn"] = {{"taskIds", ids}};
  EXPECT_TRUE(validate_task_add(body, deps));
  body["dependsOn"]["taskIds"].push_back("x");
  auto e = refused(body, deps);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "TaskDependencyListTooLong");
}

TEST(TaskAdd, ChecksDependencyIdsAndRanges) {
  const json deps = job({{"usesTaskDependencies", true}});
  json body = valid_task();
  body["dependsOn"] = {{"taskIds", {"ok", "not ok"}}};
  EXPECT_TRUE(is_invalid(refused(body, deps), "dependsOn.taskIds[1]"));
  body["dependsOn"] = {{"taskIds", {"TASK1"}}};
  EXPECT_TRUE(is_invalid(refused(body, deps), "dependsOn.taskIds[0]"));  // itself
  body["dependsOn"] = {{"taskIdRanges", {{{"start", 5}, {"end", 1}}}}};
  EXPECT_TRUE(is_invalid(refused(body, deps), "dependsOn.taskIdRanges[0].end"));
  body["dependsOn"] = {{"taskIdRanges", {{{"start", 1}}}}};
  EXPECT_TRUE(is_missing(refused(body, deps), "dependsOn.taskIdRanges[0].end"));
  body["id"] = "7";
  body["dependsOn"] = {{"taskIdRanges", {{{"start", 1}, {"end", 9}}}}};
  EXPECT_TRUE(is_invalid(refused(body, deps), "dependsOn.taskIdRanges[0]"));  // itself
}

TEST(TaskAdd, ChecksOutputFiles) {
  json body = valid_task();
  body["outputFiles"] = {
      {{"filePattern", "../std*.txt"},
       {"destination", {{"container", {{"containerUrl", "https://a.blob/c?sas"}, {"path", "x"}}}}},
       {"uploadOptions", {{"uploadCondition", "TaskCompletion"}}}}};
  EXPECT_EQ(accepted(body)["outputFiles"][0]["uploadOptions"]["uploadCondition"], "taskcompletion");
  body["outputFiles"][0]["uploadOptions"]["uploadCondition"] = "always";
  EXPECT_TRUE(is_invalid(refused(body), "outputFiles[0].uploadOptions.uploadCondition"));
  body["outputFiles"][0].erase("uploadOptions");
  EXPECT_TRUE(is_missing(refused(body), "outputFiles[0].uploadOptions"));
  body["outputFiles"][0]["uploadOptions"] = {{"uploadCondition", "tasksuccess"}};
  body["outputFiles"][0]["destination"]["container"].erase("containerUrl");
  EXPECT_TRUE(is_missing(refused(body), "outputFiles[0].destination.container.containerUrl"));
}

TEST(TaskAdd, ChecksIdentityFilesAffinityAndPackages) {
  json body = valid_task();
  body["userIdentity"] = {{"autoUser", {{"scope", "Task"}, {"elevationLevel", "NonAdmin"}}}};
  body["resourceFiles"] = {{{"httpUrl", "https://h/in.dat"}, {"filePath", "in/in.dat"}}};
  body["environmentSettings"] = {{{"name", "A"}, {"value", "1"}}};
  body["affinityInfo"] = {{"affinityId", "TVM:tvm-1"}};
  body["applicationPackageReferences"] = {{{"applicationId", "blender"}, {"version", "2.7"}}};
  body["authenticationTokenSettings"] = {{"access", {"Job"}}};
  json t = accepted(body);
  EXPECT_EQ(t["userIdentity"]["autoUser"],
            json({{"scope", "task"}, {"elevationLevel", "nonadmin"}}));
  EXPECT_EQ(t["affinityInfo"]["affinityId"], "TVM:tvm-1");
  EXPECT_EQ(t["authenticationTokenSettings"]["access"], json({"job"}));
  EXPECT_EQ(t["resourceFiles"][0]["filePath"], "in/in.dat");

  body["affinityInfo"] = json::object();
  EXPECT_TRUE(is_missing(refused(body), "affinityInfo.affinityId"));
  body.erase("affinityInfo");
  body["resourceFiles"][0]["filePath"] = "../../etc/shadow";
  EXPECT_TRUE(is_invalid(refused(body), "resourceFiles[0].filePath"));
  body.erase("resourceFiles");
  body["authenticationTokenSettings"] = {{"access", {"pool"}}};
  EXPECT_TRUE(is_invalid(refused(body), "authenticationTokenSettings.access[0]"));
}

TEST(TaskAdd, DropsUnknownProperties) {
  json body = valid_task();
  body["futureProperty"] = {{"x", 1}};
  body["constraints"] = {{"someLimit", 3}};
  json t = accepted(body);
  EXPECT_FALSE(t.contains("futureProperty"));
  EXPECT_FALSE(t["constraints"].contains("someLimit"));
}

TEST(TaskUpdate, ReplacesConstraintsWithDefaults) {
  auto r = validate_task_update({{"constraints", {{"maxWallClockTime", "PT1H"}}}},
                                job({{"constraints", {{"maxTaskRetryCount", 2}}}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(
      (*r)["constraints"],
      json({{"maxWallClockTime", "PT1H"}, {"retentionTime", "P7D"}, {"maxTaskRetryCount", 2}}));
  r = validate_task_update(json::object(), job());
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["constraints"]["retentionTime"], "P7D");
  EXPECT_TRUE(is_invalid(
      error_of(validate_task_update({{"constraints", {{"retentionTime", "forever"}}}}, job())),
      "constraints.retentionTime"));
}

}  // namespace
}  // namespace openbatch::domain

namespace openbatch::domain {
namespace {

TEST(TaskAdd, KeepsAndChecksTheGpuRequestExtension) {
  json body = valid_task();
  body["resources"] = {
      {"requests", {{"gpu", {{"count", 1}, {"sku", "H100"}, {"minCudaVersion", "12.2"}}}}}};
  json t = accepted(body);
  EXPECT_EQ(t["resources"], body["resources"]);
  for (const char* bad : {"twelve", "12.", ".2", "0.5", "12.2.1", "12.100"}) {
    body["resources"]["requests"]["gpu"]["minCudaVersion"] = bad;
    EXPECT_TRUE(is_invalid(refused(body), "resources.requests.gpu.minCudaVersion")) << bad;
  }
  body["resources"]["requests"]["gpu"] = {{"count", -1}};
  EXPECT_TRUE(is_invalid(refused(body), "resources.requests.gpu.count"));
  body["resources"] = "gpu";
  EXPECT_TRUE(is_invalid(refused(body), "resources"));
}

}  // namespace
}  // namespace openbatch::domain
