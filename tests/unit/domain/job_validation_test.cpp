// Tests of job add, patch, update, terminate and disable validation (batch-api.md section 4).
#include "scheduler/domain/job_validation.hpp"

#include "tests/unit/domain/test_support.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

using testing::error_of;
using testing::is_invalid;
using testing::is_missing;
using testing::json;

json valid_job() { return {{"id", "job1"}, {"poolInfo", {{"poolId", "pool1"}}}}; }

json accepted(json body) {
  auto r = validate_job_add(std::move(body));
  EXPECT_TRUE(r.has_value()) << (r ? ""
                                   : r.error().detail("PropertyName") + " " +
                                         r.error().detail("Reason"));
  return r ? *r : json();
}

Error refused(json body) { return error_of(validate_job_add(std::move(body))); }

json stored_job(std::string_view state, std::string_view on_all_complete = "noaction") {
  json job = accepted(valid_job());
  job["state"] = state;
  job["onAllTasksComplete"] = on_all_complete;
  return job;
}

TEST(JobAdd, FillsAzureDefaults) {
  json j = accepted(valid_job());
  EXPECT_EQ(j["id"], "job1");
  EXPECT_EQ(j["poolInfo"], json({{"poolId", "pool1"}}));
  EXPECT_EQ(j["priority"], 0);
  EXPECT_EQ(j["maxParallelTasks"], -1);
  EXPECT_EQ(j["allowTaskPreemption"], false);
  EXPECT_EQ(j["constraints"],
            json({{"maxWallClockTime", "P10675199DT2H48M5.4775807S"}, {"maxTaskRetryCount", 0}}));
  EXPECT_EQ(j["onAllTasksComplete"], "noaction");
  EXPECT_EQ(j["onTaskFailure"], "noaction");
  EXPECT_EQ(j["usesTaskDependencies"], false);
  EXPECT_FALSE(j.contains("metadata"));
  EXPECT_FALSE(j.contains("jobPreparationTask"));
}

TEST(JobAdd, NeedsIdAndPoolInfo) {
  json body = valid_job();
  body.erase("id");
  EXPECT_TRUE(is_missing(refused(body), "id"));
  body = valid_job();
  body.erase("poolInfo");
  EXPECT_TRUE(is_missing(refused(body), "poolInfo"));
  body["poolInfo"] = json::object();
  EXPECT_TRUE(is_missing(refused(body), "poolInfo.poolId"));
  body["poolInfo"] = {{"poolId", "bad id"}};
  EXPECT_TRUE(is_invalid(refused(body), "poolInfo.poolId"));
  body = valid_job();
  body["id"] = "job.1";
  EXPECT_TRUE(is_invalid(refused(body), "id"));
}

TEST(JobAdd, TakesAnAutoPoolSpecificationInsteadOfAPoolId) {
  json body = valid_job();
  body["poolInfo"] = {{"autoPoolSpecification",
                       {{"autoPoolIdPrefix", "auto"},
                        {"poolLifetimeOption", "Job"},
                        {"pool", {{"vmSize", "standard_d2s_v3"}}}}}};
  json j = accepted(body);
  EXPECT_EQ(j["poolInfo"]["autoPoolSpecification"]["poolLifetimeOption"], "job");
  EXPECT_EQ(j["poolInfo"]["autoPoolSpecification"]["keepAlive"], false);

  body["poolInfo"]["poolId"] = "pool1";
  EXPECT_TRUE(is_invalid(refused(body), "poolInfo"));
  body["poolInfo"].erase("poolId");
  body["poolInfo"]["autoPoolSpecification"].erase("poolLifetimeOption");
  EXPECT_TRUE(is_missing(refused(body), "poolInfo.autoPoolSpecification.poolLifetimeOption"));
  body["poolInfo"]["autoPoolSpecification"]["poolLifetimeOption"] = "job";
  body["poolInfo"]["autoPoolSpecification"].erase("pool");
  EXPECT_TRUE(is_missing(refused(body), "poolInfo.autoPoolSpecification.pool"));
  body["poolInfo"]["autoPoolSpecification"]["pool"] = json::object();
  body["poolInfo"]["autoPoolSpecification"]["autoPoolIdPrefix"] = std::string(21, 'a');
  EXPECT_TRUE(is_invalid(refused(body), "poolInfo.autoPoolSpecification.autoPoolIdPrefix"));
}

TEST(JobAdd, BoundsPriorityAndMaxParallelTasks) {
  json body = valid_job();
  for (int p : {-1000, 1000}) {
    body["priority"] = p;
    EXPECT_EQ(accepted(body)["priority"], p);
  }
  for (int p : {-1001, 1001}) {
    body["priority"] = p;
    EXPECT_TRUE(is_invalid(refused(body), "priority"));
  }
  body = valid_job();
  for (int n : {-1, 1, 500}) {
    body["maxParallelTasks"] = n;
    EXPECT_EQ(accepted(body)["maxParallelTasks"], n);
  }
  for (int n : {0, -2}) {
    body["maxParallelTasks"] = n;
    EXPECT_TRUE(is_invalid(refused(body), "maxParallelTasks")) << n;
  }
}

TEST(JobAdd, ChecksConstraints) {
  json body = valid_job();
  body["constraints"] = {{"maxWallClockTime", "PT120M"}, {"maxTaskRetryCount", 3}};
  EXPECT_EQ(accepted(body)["constraints"],
            json({{"maxWallClockTime", "PT2H"}, {"maxTaskRetryCount", 3}}));
  body["constraints"] = {{"maxTaskRetryCount", -2}};
  EXPECT_TRUE(is_invalid(refused(body), "constraints.maxTaskRetryCount"));
  body["constraints"] = {{"maxWallClockTime", "2h"}};
  EXPECT_TRUE(is_invalid(refused(body), "constraints.maxWallClockTime"));
  body["constraints"] = {{"maxWallClockTime", "PT0S"}};
  EXPECT_TRUE(is_invalid(refused(body), "constraints.maxWallClockTime"));
}

TEST(JobAdd, ParsesEnumsIgnoringCase) {
  json body = valid_job();
  body["onAllTasksComplete"] = "TerminateJob";
  body["onTaskFailure"] = "PerformExitOptionsJobAction";
  json j = accepted(body);
  EXPECT_EQ(j["onAllTasksComplete"], "terminatejob");
  EXPECT_EQ(j["onTaskFailure"], "performexitoptionsjobaction");
  body["onAllTasksComplete"] = "terminate";
  EXPECT_TRUE(is_invalid(refused(body), "onAllTasksComplete"));
  body = valid_job();
  body["onTaskFailure"] = "retry";
  EXPECT_TRUE(is_invalid(refused(body), "onTaskFailure"));
}

TEST(JobAdd, ChecksCommonEnvironmentSettingsAndMetadata) {
  json body = valid_job();
  body["commonEnvironmentSettings"] = {{{"name", "OMP_NUM_THREADS"}, {"value", "4"}}};
  body["metadata"] = {{{"name", "team"}, {"value", "hpc"}}};
  json j = accepted(body);
  EXPECT_EQ(j["commonEnvironmentSettings"][0]["name"], "OMP_NUM_THREADS");
  EXPECT_EQ(j["metadata"][0]["value"], "hpc");
  body["commonEnvironmentSettings"] = {{{"value", "4"}}};
  EXPECT_TRUE(is_missing(refused(body), "commonEnvironmentSettings[0].name"));
}

TEST(JobAdd, DefaultsJobPreparationAndReleaseTaskIds) {
  json body = valid_job();
  body["jobPreparationTask"] = {
      {"commandLine", "/bin/sh -c 'mkdir -p $AZ_BATCH_NODE_SHARED_DIR/x'"}};
  body["jobReleaseTask"] = {{"commandLine", "/bin/true"}};
  json j = accepted(body);
  EXPECT_EQ(j["jobPreparationTask"]["id"], "jobpreparation");
  EXPECT_EQ(j["jobPreparationTask"]["waitForSuccess"], true);
  EXPECT_EQ(j["jobPreparationTask"]["rerunOnNodeRebootAfterSuccess"], true);
  EXPECT_EQ(j["jobPreparationTask"]["constraints"]["retentionTime"], "P7D");
  EXPECT_EQ(j["jobReleaseTask"]["id"], "jobrelease");
  EXPECT_EQ(j["jobReleaseTask"]["maxWallClockTime"], "PT15M");
  EXPECT_EQ(j["jobReleaseTask"]["retentionTime"], "P7D");
}

TEST(JobAdd, RefusesAReleaseTaskWithoutAPreparationTask) {
  json body = valid_job();
  body["jobReleaseTask"] = {{"commandLine", "/bin/true"}};
  EXPECT_TRUE(is_invalid(refused(body), "jobReleaseTask"));
}

TEST(JobAdd, ChecksJobPreparationAndReleaseTasks) {
  json body = valid_job();
  body["jobPreparationTask"] = {{"id", "setup"}};
  EXPECT_TRUE(is_missing(refused(body), "jobPreparationTask.commandLine"));
  body["jobPreparationTask"]["commandLine"] = "x";
  body["jobReleaseTask"] = {{"id", "SETUP"}, {"commandLine", "y"}};
  EXPECT_TRUE(is_invalid(refused(body), "jobReleaseTask.id"));
  body["jobReleaseTask"] = {{"commandLine", "y"}, {"maxWallClockTime", "PT16M"}};
  EXPECT_TRUE(is_invalid(refused(body), "jobReleaseTask.maxWallClockTime"));
  body["jobReleaseTask"]["maxWallClockTime"] = "PT5M";
  EXPECT_EQ(accepted(body)["jobReleaseTask"]["maxWallClockTime"], "PT5M");
  body["jobPreparationTask"]["userIdentity"] = {{"autoUser", {{"elevationLevel", "superuser"}}}};
  EXPECT_TRUE(is_invalid(refused(body), "jobPreparationTask.userIdentity.autoUser.elevationLevel"));
}

TEST(JobAdd, ChecksTheJobManagerTask) {
  json body = valid_job();
  body["constraints"] = {{"maxTaskRetryCount", 2}};
  body["jobManagerTask"] = {{"id", "manager"}, {"commandLine", "python manage.py"}};
  json m = accepted(body)["jobManagerTask"];
  EXPECT_EQ(m["killJobOnCompletion"], true);
  EXPECT_EQ(m["runExclusive"], true);
  EXPECT_EQ(m["requiredSlots"], 1);
  EXPECT_EQ(m["constraints"]["maxTaskRetryCount"], 2);  // the job's default
  body["jobManagerTask"].erase("id");
  EXPECT_TRUE(is_missing(refused(body), "jobManagerTask.id"));
}

TEST(JobPatch, ReturnsOnlyThePropertiesPresent) {
  auto r =
      validate_job_patch({{"priority", 10}, {"usesTaskDependencies", true}}, stored_job("active"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json({{"priority", 10}}));
  r = validate_job_patch({{"metadata", json::array()}}, stored_job("active"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["metadata"], json::array());
  r = validate_job_patch({{"constraints", {{"maxTaskRetryCount", 1}}}}, stored_job("active"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["constraints"]["maxWallClockTime"], "P10675199DT2H48M5.4775807S");
}

TEST(JobPatch, RefusesTerminateJobBackToNoAction) {
  auto e = error_of(validate_job_patch({{"onAllTasksComplete", "NoAction"}},
                                       stored_job("active", "terminatejob")));
  EXPECT_TRUE(is_invalid(e, "onAllTasksComplete"));
  EXPECT_TRUE(validate_job_patch({{"onAllTasksComplete", "terminatejob"}}, stored_job("active")));
  EXPECT_TRUE(validate_job_patch({{"priority", 1}}, stored_job("active", "terminatejob")));
}

TEST(JobPatch, ChangesPoolInfoOnlyWhileDisabled) {
  const json body = {{"poolInfo", {{"poolId", "pool2"}}}};
  auto e = error_of(validate_job_patch(body, stored_job("active")));
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.code, "OperationInvalidForCurrentState");
  auto r = validate_job_patch(body, stored_job("disabled"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["poolInfo"]["poolId"], "pool2");
}

TEST(JobUpdate, ReplacesEverythingWithDefaults) {
  auto r = validate_job_update({{"poolInfo", {{"poolId", "POOL1"}}}}, stored_job("active"));
  ASSERT_TRUE(r);  // the same pool, spelled differently, is no change
  EXPECT_EQ((*r)["priority"], 0);
  EXPECT_EQ((*r)["maxParallelTasks"], -1);
  EXPECT_EQ((*r)["onAllTasksComplete"], "noaction");
  EXPECT_EQ((*r)["metadata"], json::array());
  EXPECT_EQ((*r)["constraints"]["maxTaskRetryCount"], 0);
  EXPECT_TRUE(is_missing(error_of(validate_job_update({{"priority", 1}}, stored_job("active"))),
                         "poolInfo"));
}

TEST(JobUpdate, TreatsAnOmittedOnAllTasksCompleteAsNoAction) {
  const json body = {{"poolInfo", {{"poolId", "pool1"}}}};
  EXPECT_TRUE(is_invalid(error_of(validate_job_update(body, stored_job("active", "terminatejob"))),
                         "onAllTasksComplete"));
  json keep = body;
  keep["onAllTasksComplete"] = "terminatejob";
  EXPECT_TRUE(validate_job_update(keep, stored_job("active", "terminatejob")));
}

TEST(JobUpdate, MovesToAnotherPoolOnlyWhileDisabled) {
  const json body = {{"poolInfo", {{"poolId", "pool2"}}}};
  EXPECT_EQ(error_of(validate_job_update(body, stored_job("active"))).status, 409);
  EXPECT_TRUE(validate_job_update(body, stored_job("disabled")));
}

TEST(JobTerminate, DefaultsTheReasonToUserTerminate) {
  for (json body : {json(nullptr), json::object(), json({{"terminateReason", ""}})}) {
    auto r = validate_job_terminate(body);
    ASSERT_TRUE(r) << body;
    EXPECT_EQ((*r)["terminateReason"], "UserTerminate");
  }
  EXPECT_EQ((*validate_job_terminate({{"terminateReason", "done early"}}))["terminateReason"],
            "done early");
  EXPECT_TRUE(
      is_invalid(error_of(validate_job_terminate({{"terminateReason", std::string(1025, 'x')}})),
                 "terminateReason"));
  EXPECT_TRUE(
      is_invalid(error_of(validate_job_terminate({{"terminateReason", 5}})), "terminateReason"));
  EXPECT_EQ(error_of(validate_job_terminate(json::array())).code, "InvalidRequestBody");
}

TEST(JobDisable, NeedsADisableTasksOption) {
  EXPECT_EQ((*validate_job_disable({{"disableTasks", "Requeue"}}))["disableTasks"], "requeue");
  EXPECT_TRUE(is_missing(error_of(validate_job_disable(json::object())), "disableTasks"));
  EXPECT_TRUE(
      is_invalid(error_of(validate_job_disable({{"disableTasks", "pause"}})), "disableTasks"));
}

}  // namespace
}  // namespace openbatch::domain
