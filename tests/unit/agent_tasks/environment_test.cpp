// build_environment: section 10's variables field by field for the start task, a task and a
// multi-instance instance, plus app package names and user settings.
#include "node_agent/tasks/environment.hpp"

#include <gtest/gtest.h>

#include <map>

namespace openbatch::agent::tasks {
namespace {

using Env = std::vector<std::string>;

std::map<std::string, std::string> as_map(const Env& env) {
  std::map<std::string, std::string> m;
  for (const auto& e : env) {
    auto eq = e.find('=');
    EXPECT_NE(eq, std::string::npos) << e;
    EXPECT_TRUE(m.emplace(e.substr(0, eq), e.substr(eq + 1)).second) << "duplicate " << e;
  }
  return m;
}

EnvironmentInput base_input(TaskKind kind) {
  EnvironmentInput in;
  in.kind = kind;
  in.account_name = "acct";
  in.account_url = "https://acct.westeurope.batch.example";
  in.pool_id = "pool1";
  in.node_id = "tvmps_0001";
  in.node_is_dedicated = false;
  in.node_root = "/mnt/batch/tasks";
  in.job_id = "job1";
  in.task_id = "task1";
  in.task_dir = "/mnt/batch/tasks/workitems/job1/job-1/task1";
  in.os_user = "_azbatch";
  in.reserved_ephemeral_disk_space_bytes = 1000000000;
  in.base_path = "/usr/bin:/bin";
  return in;
}

TEST(Environment, StartTaskHasNodeAndStartupVariablesButNoJobOrTaskId) {
  auto in = base_input(TaskKind::StartTask);
  in.task_dir = "/mnt/batch/tasks/startup";
  in.os_user = "_azbatchtask_start";
  in.identity.scope = AutoUserScope::Task;
  in.identity.elevation = ElevationLevel::Admin;
  in.job_settings = {{"FROM_JOB", "x"}};
  in.task_settings = {{"MINE", "1"}};
  in.authentication_token = "tok";
  auto env = build_environment(in);
  ASSERT_TRUE(env) << env.error().message;
  auto m = as_map(*env);
  EXPECT_EQ(m["AZ_BATCH_ACCOUNT_NAME"], "acct");
  EXPECT_EQ(m["AZ_BATCH_ACCOUNT_URL"], "https://acct.westeurope.batch.example");
  EXPECT_EQ(m["AZ_BATCH_POOL_ID"], "pool1");
  EXPECT_EQ(m["AZ_BATCH_NODE_ID"], "tvmps_0001");
  EXPECT_EQ(m["AZ_BATCH_NODE_IS_DEDICATED"], "false");
  EXPECT_EQ(m["AZ_BATCH_NODE_ROOT_DIR"], "/mnt/batch/tasks");
  EXPECT_EQ(m["AZ_BATCH_NODE_SHARED_DIR"], "/mnt/batch/tasks/shared");
  EXPECT_EQ(m["AZ_BATCH_NODE_STARTUP_DIR"], "/mnt/batch/tasks/startup");
  EXPECT_EQ(m["AZ_BATCH_NODE_MOUNTS_DIR"], "/mnt/batch/tasks/fsmounts");
  EXPECT_EQ(m["AZ_BATCH_TASK_DIR"], "/mnt/batch/tasks/startup");
  EXPECT_EQ(m["AZ_BATCH_TASK_WORKING_DIR"], "/mnt/batch/tasks/startup/wd");
  EXPECT_EQ(m["AZ_BATCH_CERTIFICATES_DIR"], "/mnt/batch/tasks/startup/certs");
  EXPECT_EQ(m["AZ_BATCH_TASK_USER"], "_azbatchtask_start");
  EXPECT_EQ(m["AZ_BATCH_TASK_USER_IDENTITY"], "TaskAdmin");
  EXPECT_EQ(m["AZ_BATCH_TASK_RESERVED_EPHEMERAL_DISK_SPACE_BYTES"], "1000000000");
  EXPECT_EQ(m["HOME"], "/mnt/batch/tasks/startup/wd");
  EXPECT_EQ(m["PATH"], "/usr/bin:/bin:/mnt/batch/tasks/shared:/mnt/batch/tasks/startup/wd");
  EXPECT_EQ(m["MINE"], "1");
  EXPECT_EQ(m.count("AZ_BATCH_JOB_ID"), 0u);
  EXPECT_EQ(m.count("AZ_BATCH_TASK_ID"), 0u);
  EXPECT_EQ(m.count("FROM_JOB"), 0u);  // commonEnvironmentSettings never reach the start task
  EXPECT_EQ(m.count("AZ_BATCH_AUTHENTICATION_TOKEN"), 0u);
  EXPECT_EQ(m.count("AZ_BATCH_HOST_LIST"), 0u);
  EXPECT_EQ(m.size(), 18u);
  EXPECT_EQ(env->front(), "AZ_BATCH_ACCOUNT_NAME=acct");
}

TEST(Environment, TaskGetsIdsJobSettingsAndItsOwnValuesWin) {
  auto in = base_input(TaskKind::Task);
  in.job_settings = {{"SHARED", "job"}, {"ONLY_JOB", "j"}};
  in.task_settings = {{"SHARED", "task"}, {"ONLY_TASK", "t"}};
  in.authentication_token = "tok";
  auto env = build_environment(in);
  ASSERT_TRUE(env) << env.error().message;
  auto m = as_map(*env);
  EXPECT_EQ(m["AZ_BATCH_JOB_ID"], "job1");
  EXPECT_EQ(m["AZ_BATCH_TASK_ID"], "task1");
  EXPECT_EQ(m["AZ_BATCH_TASK_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task1");
  EXPECT_EQ(m["AZ_BATCH_TASK_WORKING_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task1/wd");
  EXPECT_EQ(m["AZ_BATCH_CERTIFICATES_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task1/certs");
  EXPECT_EQ(m["AZ_BATCH_TASK_USER"], "_azbatch");
  EXPECT_EQ(m["AZ_BATCH_TASK_USER_IDENTITY"], "PoolNonAdmin");
  EXPECT_EQ(m["AZ_BATCH_AUTHENTICATION_TOKEN"], "tok");
  EXPECT_EQ(m["HOME"], "/mnt/batch/tasks/workitems/job1/job-1/task1/wd");
  EXPECT_EQ(m["PATH"],
            "/usr/bin:/bin:/mnt/batch/tasks/shared:/mnt/batch/tasks/workitems/job1/job-1/task1/wd");
  EXPECT_EQ(m["SHARED"], "task");
  EXPECT_EQ(m["ONLY_JOB"], "j");
  EXPECT_EQ(m["ONLY_TASK"], "t");
  EXPECT_EQ(m.count("AZ_BATCH_HOST_LIST"), 0u);
  EXPECT_EQ(m.count("CCP_NODES"), 0u);
  // Job values come first, and a task value replaces a job value in place.
  EXPECT_EQ(env->at(env->size() - 3), "SHARED=task");
  EXPECT_EQ(env->back(), "ONLY_TASK=t");
}

TEST(Environment, UserSettingsMayReplacePathButNotAgentVariables) {
  auto in = base_input(TaskKind::Task);
  in.task_settings = {{"PATH", "/opt/bin"}};
  auto env = build_environment(in);
  ASSERT_TRUE(env);
  EXPECT_EQ(as_map(*env)["PATH"], "/opt/bin");

  in.task_settings = {{"AZ_BATCH_NODE_ID", "spoof"}};
  auto reserved = build_environment(in);
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().status, 400);
  EXPECT_EQ(reserved.error().detail("PropertyName"), "environmentSettings");

  in.task_settings = {};
  in.job_settings = {{"BAD=NAME", "x"}};
  auto bad = build_environment(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().detail("PropertyName"), "commonEnvironmentSettings");
  in.job_settings = {{"", "x"}};
  EXPECT_FALSE(build_environment(in));
}

TEST(Environment, IdentityLabels) {
  EXPECT_EQ(user_identity_label({std::nullopt, AutoUserScope::Pool, ElevationLevel::NonAdmin}),
            "PoolNonAdmin");
  EXPECT_EQ(user_identity_label({std::nullopt, AutoUserScope::Pool, ElevationLevel::Admin}),
            "PoolAdmin");
  EXPECT_EQ(user_identity_label({std::nullopt, AutoUserScope::Task, ElevationLevel::NonAdmin}),
            "TaskNonAdmin");
  EXPECT_EQ(user_identity_label({std::nullopt, AutoUserScope::Task, ElevationLevel::Admin}),
            "TaskAdmin");
  EXPECT_EQ(user_identity_label({std::string("alice"), AutoUserScope::Task, ElevationLevel::Admin}),
            "alice");
}

TEST(Environment, AppPackageNamesKeepCaseAndAddLowercase) {
  EXPECT_EQ(app_package_variable_names("blender", std::string("2.7")),
            (std::vector<std::string>{"AZ_BATCH_APP_PACKAGE_blender_2_7"}));
  EXPECT_EQ(app_package_variable_names("flamenco-worker", std::string("2.2.1")),
            (std::vector<std::string>{"AZ_BATCH_APP_PACKAGE_flamenco_worker_2_2_1"}));
  EXPECT_EQ(app_package_variable_names("Agent-linux-x64", std::string("1.1.46.0")),
            (std::vector<std::string>{"AZ_BATCH_APP_PACKAGE_Agent_linux_x64_1_1_46_0",
                                      "AZ_BATCH_APP_PACKAGE_agent_linux_x64_1_1_46_0"}));
  EXPECT_EQ(app_package_variable_names("GPUDriver#x", std::nullopt),
            (std::vector<std::string>{"AZ_BATCH_APP_PACKAGE_GPUDriver_x",
                                      "AZ_BATCH_APP_PACKAGE_gpudriver_x"}));
}

TEST(Environment, AppPackagesAppearWithVersionOrAsDefault) {
  auto in = base_input(TaskKind::Task);
  in.app_packages = {{"Blender", std::string("2.7"), "/mnt/batch/tasks/applications/b27"},
                     {"tool", std::nullopt, "/mnt/batch/tasks/applications/tooldef"}};
  auto env = build_environment(in);
  ASSERT_TRUE(env);
  auto m = as_map(*env);
  EXPECT_EQ(m["AZ_BATCH_APP_PACKAGE_Blender_2_7"], "/mnt/batch/tasks/applications/b27");
  EXPECT_EQ(m["AZ_BATCH_APP_PACKAGE_blender_2_7"], "/mnt/batch/tasks/applications/b27");
  EXPECT_EQ(m["AZ_BATCH_APP_PACKAGE_tool"], "/mnt/batch/tasks/applications/tooldef");
  EXPECT_EQ(m.count("AZ_BATCH_APP_PACKAGE_Blender"), 0u);
}

TEST(Environment, MultiInstanceGetsTheGangVariables) {
  auto in = base_input(TaskKind::MultiInstance);
  in.task_dir = "/mnt/batch/tasks/workitems/job1/job-1/task1/2";
  MultiInstanceInfo mi;
  mi.hosts = {{"10.0.0.4", 8}, {"10.0.0.5", 8}, {"10.0.0.6", 4}};
  mi.master_index = 0;
  mi.master_port = 6000;
  mi.is_current_node_master = false;
  mi.task_shared_dir = "/mnt/batch/tasks/workitems/job1/job-1/task1";
  in.multi_instance = mi;
  auto env = build_environment(in);
  ASSERT_TRUE(env) << env.error().message;
  auto m = as_map(*env);
  EXPECT_EQ(m["AZ_BATCH_HOST_LIST"], "10.0.0.4,10.0.0.5,10.0.0.6");
  EXPECT_EQ(m["AZ_BATCH_NODE_LIST"], "10.0.0.4;10.0.0.5;10.0.0.6");
  EXPECT_EQ(m["AZ_BATCH_MASTER_NODE"], "10.0.0.4:6000");
  EXPECT_EQ(m["AZ_BATCH_IS_CURRENT_NODE_MASTER"], "false");
  EXPECT_EQ(m["AZ_BATCH_TASK_SHARED_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task1");
  EXPECT_EQ(m["CCP_NODES"], "3 10.0.0.4 8 10.0.0.5 8 10.0.0.6 4");
  EXPECT_EQ(m["AZ_BATCH_TASK_ID"], "task1");
  EXPECT_EQ(m["AZ_BATCH_TASK_WORKING_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task1/2/wd");

  in.multi_instance->is_current_node_master = true;
  EXPECT_EQ(as_map(*build_environment(in))["AZ_BATCH_IS_CURRENT_NODE_MASTER"], "true");

  in.multi_instance->master_index = 3;
  EXPECT_FALSE(build_environment(in));
  in.multi_instance.reset();
  EXPECT_FALSE(build_environment(in));
}

}  // namespace
}  // namespace openbatch::agent::tasks
