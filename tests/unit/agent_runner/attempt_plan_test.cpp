// plan_attempt, the pure assignment -> LaunchSpec mapping: identity, environment (AZ_BATCH_*
// values, job and task settings), paths, resource file checks, wall clock; and the reports an
// attempt ends with.
#include "node_agent/runner/attempt_plan.hpp"

#include "node_agent/runner/attempt_reports.hpp"
#include "node_agent/runner/user_identity.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace openbatch::agent::runner {
namespace {

using json = nlohmann::json;

NodeFacts facts() {
  NodeFacts f;
  f.account_name = "acct";
  f.account_url = "http://batch.example:8080";
  f.pool_id = "pool1";
  f.node_id = "tvmps_0001";
  f.node_root = "/mnt/batch/tasks";
  f.task_user = "_azbatch";
  return f;
}

Result<exec::UserIds> users(std::string_view name) {
  if (name == "_azbatch") return exec::UserIds{"_azbatch", 990, 990, {990}, "/"};
  if (name == "alice") return exec::UserIds{"alice", 1001, 1001, {1001, 27}, "/home/alice"};
  return Error(404, "UserNotFound", "no such user");
}

protocol::Assignment assignment() {
  protocol::Assignment a;
  a.attempt_id = "job1:task7:0:0";
  a.job_id = "job1";
  a.task_id = "task7";
  a.command_line = R"(/bin/sh -c "echo $MODE > out.txt")";
  a.environment = {{"MODE", "fast"}, {"TASKONLY", "t"}};
  a.job_environment = {{"MODE", "slow"}, {"JOBONLY", "j"}};
  a.required_slots = 2;
  return a;
}

std::map<std::string, std::string> env_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& e : env) {
    const auto eq = e.find('=');
    out[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return out;
}

TEST(AttemptPlan, ADefaultTaskRunsAsTheTaskUserInItsOwnDirectory) {
  auto plan = plan_attempt(assignment(), facts(), users);
  ASSERT_TRUE(plan) << plan.error().message;
  const std::filesystem::path dir = "/mnt/batch/tasks/workitems/job1/job-1/task7";
  EXPECT_EQ(plan->paths.dir, dir);
  EXPECT_EQ(plan->spec.argv, (std::vector<std::string>{"/bin/sh", "-c", "echo $MODE > out.txt"}));
  EXPECT_EQ(plan->spec.cwd, dir / "wd");
  ASSERT_TRUE(plan->spec.stdout_file && plan->spec.stderr_file);
  EXPECT_EQ(plan->spec.stdout_file->path, dir / "stdout.txt");
  EXPECT_EQ(plan->spec.stderr_file->path, dir / "stderr.txt");
  EXPECT_TRUE(plan->spec.new_process_group);
  EXPECT_EQ(plan->spec.uid, 990u);
  EXPECT_EQ(plan->spec.gid, 990u);
  EXPECT_EQ(plan->spec.groups, std::vector<gid_t>{990});
  ASSERT_TRUE(plan->owner);
  EXPECT_EQ(plan->owner->uid, 990u);
  EXPECT_FALSE(plan->max_wall_clock);
  EXPECT_TRUE(plan->resource_files.empty());

  auto env = env_map(plan->spec.env);
  EXPECT_EQ(env["AZ_BATCH_ACCOUNT_NAME"], "acct");
  EXPECT_EQ(env["AZ_BATCH_ACCOUNT_URL"], "http://batch.example:8080");
  EXPECT_EQ(env["AZ_BATCH_POOL_ID"], "pool1");
  EXPECT_EQ(env["AZ_BATCH_NODE_ID"], "tvmps_0001");
  EXPECT_EQ(env["AZ_BATCH_NODE_ROOT_DIR"], "/mnt/batch/tasks");
  EXPECT_EQ(env["AZ_BATCH_JOB_ID"], "job1");
  EXPECT_EQ(env["AZ_BATCH_TASK_ID"], "task7");
  EXPECT_EQ(env["AZ_BATCH_TASK_DIR"], dir.string());
  EXPECT_EQ(env["AZ_BATCH_TASK_WORKING_DIR"], (dir / "wd").string());
  EXPECT_EQ(env["AZ_BATCH_TASK_USER"], "_azbatch");
  EXPECT_EQ(env["AZ_BATCH_TASK_USER_IDENTITY"], "PoolNonAdmin");
  EXPECT_EQ(env["HOME"], (dir / "wd").string());
  EXPECT_EQ(env["MODE"], "fast") << "the task's setting wins over the job's";
  EXPECT_EQ(env["JOBONLY"], "j");
  EXPECT_EQ(env["TASKONLY"], "t");
  EXPECT_FALSE(env.contains("CUDA_VISIBLE_DEVICES"));
}

TEST(AttemptPlan, IdentitiesMapToRootNamedUsersOrTheAgentItself) {
  auto a = assignment();
  a.user_identity = json::parse(R"({"autoUser": {"scope": "pool", "elevationLevel": "admin"}})");
  auto admin = plan_attempt(a, facts(), users);
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->spec.uid, 0u);
  EXPECT_EQ(admin->spec.gid, 0u);
  EXPECT_EQ(admin->spec.groups, std::vector<gid_t>{});
  EXPECT_FALSE(admin->owner);
  EXPECT_EQ(env_map(admin->spec.env)["AZ_BATCH_TASK_USER_IDENTITY"], "PoolAdmin");

  a.user_identity = json::parse(R"({"username": "alice"})");
  auto alice = plan_attempt(a, facts(), users);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->spec.uid, 1001u);
  EXPECT_EQ(alice->spec.groups, (std::vector<gid_t>{1001, 27}));
  EXPECT_EQ(env_map(alice->spec.env)["AZ_BATCH_TASK_USER"], "alice");

  a.user_identity = json::parse(R"({"username": "mallory"})");
  auto missing = plan_attempt(a, facts(), users);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "UserNotFound");

  NodeFacts unprivileged = facts();
  unprivileged.run_as_agent_user = true;
  unprivileged.agent_user = "ci";
  a.user_identity = json::parse(R"({"autoUser": {"elevationLevel": "admin"}})");
  auto self = plan_attempt(a, unprivileged, users);
  ASSERT_TRUE(self);
  EXPECT_FALSE(self->spec.uid);
  EXPECT_FALSE(self->spec.groups);
  EXPECT_EQ(env_map(self->spec.env)["AZ_BATCH_TASK_USER"], "ci");
}

TEST(AttemptPlan, UserIdentityParsing) {
  EXPECT_FALSE(parse_user_identity(json::object())->user_name);
  EXPECT_EQ(parse_user_identity(json::parse(R"({"userName": "bob"})"))->user_name, "bob");
  auto task_admin = parse_user_identity(
      json::parse(R"({"autoUser": {"scope": "task", "elevationLevel": "admin"}})"));
  ASSERT_TRUE(task_admin);
  EXPECT_EQ(task_admin->scope, tasks::AutoUserScope::Task);
  EXPECT_EQ(task_admin->elevation, tasks::ElevationLevel::Admin);
  EXPECT_FALSE(parse_user_identity(json::parse(R"({"username": "a", "autoUser": {}})")));
  EXPECT_FALSE(parse_user_identity(json::parse(R"({"autoUser": {"elevationLevel": "root"}})")));
}

TEST(AttemptPlan, MultiInstanceRunsInTheSubtaskDirectoryWithGangVariables) {
  auto a = assignment();
  a.attempt_id = "job1:task7:0:0:1";
  protocol::MultiInstance mi;
  mi.number_of_instances = 2;
  mi.subtask_id = 1;
  mi.host_list = {"10.0.0.4", "10.0.0.5"};
  mi.node_list = {"n1", "n2"};
  mi.exec_token = "x";
  a.multi_instance = mi;
  auto plan = plan_attempt(a, facts(), users);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->paths.dir, "/mnt/batch/tasks/workitems/job1/job-1/task7/1");
  auto env = env_map(plan->spec.env);
  EXPECT_EQ(env["AZ_BATCH_TASK_SHARED_DIR"], "/mnt/batch/tasks/workitems/job1/job-1/task7");
  EXPECT_EQ(env["AZ_BATCH_IS_CURRENT_NODE_MASTER"], "false");
  EXPECT_EQ(env["AZ_BATCH_HOST_LIST"], "10.0.0.4,10.0.0.5");
}

TEST(AttemptPlan, MultiInstanceGetsTransportLauncherHostfileAndCoordination) {
  auto a = assignment();
  a.attempt_id = "job1:task7:0:1:s1";
  a.resource_files = json::array({{{"httpUrl", "http://files/in.dat"}, {"filePath", "in.dat"}}});
  a.environment.push_back({"OMPI_MCA_btl", "self,tcp"});  // the task's own setting wins
  protocol::MultiInstance mi;
  mi.number_of_instances = 2;
  mi.subtask_id = 1;
  mi.coordination_command_line = "/bin/sh -c 'start-daemon'";
  mi.common_resource_files =
      json::array({{{"httpUrl", "http://files/common.dat"}, {"filePath", "c.dat"}}});
  mi.host_list = {"10.0.0.4", "10.0.0.5"};
  mi.node_list = {"n1", "n2"};
  mi.host_names = {"node-a", "node-b"};
  mi.exec_ports = {4001, 0};  // node-b's agent runs no remote-launch server
  mi.exec_token = "exec.token";
  mi.transport = "tcp";
  mi.transport_environment = {{"OMPI_MCA_pml", "ob1"}, {"OMPI_MCA_btl", "self,vader,tcp"}};
  a.multi_instance = mi;
  NodeFacts f = facts();
  f.agent_executable = "/usr/bin/openbatch-agent";
  auto plan = plan_attempt(a, f, users);
  ASSERT_TRUE(plan) << plan.error().message;
  auto env = env_map(plan->spec.env);
  EXPECT_EQ(env["OMPI_MCA_pml"], "ob1");
  EXPECT_EQ(env["OMPI_MCA_btl"], "self,tcp");
  EXPECT_EQ(env["OMPI_MCA_plm_rsh_agent"], "/usr/bin/openbatch-agent rsh");
  EXPECT_EQ(env["OPENBATCH_RSH_PEERS"], "10.0.0.4=10.0.0.4:4001,node-a=10.0.0.4:4001");
  EXPECT_EQ(env["OPENBATCH_RSH_TOKEN"], "exec.token");
  EXPECT_EQ(env["OMPI_MCA_orte_default_hostfile"],
            "/mnt/batch/tasks/workitems/job1/job-1/task7/hostfile");
  EXPECT_FALSE(env.contains("OMPI_ALLOW_RUN_AS_ROOT"));  // a nonadmin task
  EXPECT_EQ(plan->hostfile_text, "10.0.0.4 slots=1\n10.0.0.5 slots=1\n");
  EXPECT_EQ(plan->coordination_argv, (std::vector<std::string>{"/bin/sh", "-c", "start-daemon"}));
  EXPECT_TRUE(plan->resource_files.empty())
      << "only the primary downloads the task's resourceFiles";
  ASSERT_EQ(plan->common_resource_files.size(), 1u);
  EXPECT_EQ(plan->shared_dir, "/mnt/batch/tasks/workitems/job1/job-1/task7");
  EXPECT_EQ(plan->transport_log, "/mnt/batch/tasks/workitems/job1/job-1/task7/1/mpi-transport.txt");
  EXPECT_EQ(
      plan->transport_log_text,
      "MPI transport chosen by the scheduler: tcp\n"
      "OMPI_MCA_pml=ob1\n"
      "OMPI_MCA_btl=self,tcp    (the task's own setting; the scheduler chose self,vader,tcp)\n");

  // The primary keeps its resource files; an admin one may run mpirun as root.
  a.multi_instance->subtask_id = 0;
  a.user_identity = {{"autoUser", {{"scope", "pool"}, {"elevationLevel", "admin"}}}};
  auto primary = plan_attempt(a, f, users);
  ASSERT_TRUE(primary) << primary.error().message;
  EXPECT_EQ(primary->resource_files.size(), 1u);
  EXPECT_EQ(env_map(primary->spec.env)["OMPI_ALLOW_RUN_AS_ROOT"], "1");
}

TEST(AttemptPlan, GpusWallClockAndResourceFiles) {
  auto a = assignment();
  a.gpu_uuids = {"GPU-a", "GPU-b"};
  a.constraints.max_wall_clock_time = "PT1M30S";
  a.resource_files = json::parse(
      R"([{"httpUrl": "http://files.local:8000/in.dat?sig=1", "filePath": "data/in.dat",
           "fileMode": "0644"}, {"httpUrl": "http://files.local/x", "filePath": "x"}])");
  auto plan = plan_attempt(a, facts(), users);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(env_map(plan->spec.env)["CUDA_VISIBLE_DEVICES"], "GPU-a,GPU-b");
  ASSERT_TRUE(plan->max_wall_clock);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*plan->max_wall_clock).count(), 90);
  EXPECT_EQ(plan->max_wall_clock_text, "PT1M30S");
  ASSERT_EQ(plan->resource_files.size(), 2u);
  EXPECT_EQ(plan->resource_files[0],
            (ResourceFile{"http://files.local:8000/in.dat?sig=1", "data/in.dat", 0644}));
  EXPECT_EQ(plan->resource_files[1].mode, 0770u);

  a.constraints.max_wall_clock_time = "P10675199DT2H48M5.4775807S";  // Azure's "unlimited"
  a.resource_files = json::array();
  EXPECT_FALSE(plan_attempt(a, facts(), users)->max_wall_clock);
}

TEST(AttemptPlan, PackagesStartTasksAndTaskScopeUsers) {
  auto f = facts();
  f.pool_packages =
      app_packages_of(f.node_root, {{"GPUDriver", "411.82", std::string(64, 'a'), 1, false}});
  f.node_environment = {"OPENBATCH_GPU_INVENTORY=/tmp/gpus.json"};
  auto a = assignment();
  a.application_packages = {{"flamenco-worker", "2.2", std::string(64, 'b'), 1, true}};
  auto plan = plan_attempt(a, f, users);
  ASSERT_TRUE(plan) << plan.error().message;
  auto env = env_map(plan->spec.env);
  const auto apps = f.node_root / "applications";
  EXPECT_EQ(env["AZ_BATCH_APP_PACKAGE_GPUDriver_411_82"], (apps / "GPUDriver_411.82").string());
  EXPECT_EQ(env["AZ_BATCH_APP_PACKAGE_gpudriver_411_82"], (apps / "GPUDriver_411.82").string());
  EXPECT_EQ(env["AZ_BATCH_APP_PACKAGE_flamenco_worker_2_2"],
            (apps / "flamenco-worker_2.2").string());
  EXPECT_EQ(env["AZ_BATCH_APP_PACKAGE_flamenco_worker"], (apps / "flamenco-worker_2.2").string())
      << "a default-version reference also gets the name without the version";
  EXPECT_EQ(env["OPENBATCH_GPU_INVENTORY"], "/tmp/gpus.json");

  auto start = plan_attempt(a, f, users, AttemptKind::StartTask);
  ASSERT_TRUE(start) << start.error().message;
  EXPECT_EQ(start->paths.dir, f.node_root / "startup");
  EXPECT_EQ(start->spec.cwd, f.node_root / "startup" / "wd");

  a.user_identity = {{"autoUser", {{"scope", "task"}, {"elevationLevel", "nonadmin"}}}};
  EXPECT_EQ(
      env_map(
          plan_attempt(a, f, users, AttemptKind::Task, "_azbatch")->spec.env)["AZ_BATCH_TASK_USER"],
      "_azbatch");
  EXPECT_EQ(plan_attempt(a, f, users, AttemptKind::Task, "nobody-such").error().code,
            "UserNotFound")
      << "a task-scope identity runs as the leased user it is given";
}

TEST(AttemptPlan, WhatCannotRunIsAFailureWithAClearCode) {
  auto code = [](protocol::Assignment a) {
    auto plan = plan_attempt(a, facts(), users);
    return plan ? std::string("ok") : plan.error().code;
  };
  auto a = assignment();
  a.command_line = "/bin/echo 'unbalanced";
  EXPECT_EQ(code(a), "InvalidCommandLine");
  a = assignment();
  a.resource_files = json::parse(R"([{"httpUrl": "https://example.org/x", "filePath": "x"}])");
  EXPECT_EQ(code(a), "ResourceFileDownloadFailed");
  a.resource_files = json::parse(R"([{"storageContainerUrl": "https://acct.blob/c"}])");
  EXPECT_EQ(code(a), "ResourceFileDownloadFailed");
  for (const char* path : {"../escape", "/etc/passwd", "a/../../b", ""}) {
    a.resource_files = json::array({{{"httpUrl", "http://h/x"}, {"filePath", path}}});
    EXPECT_EQ(code(a), "ResourceFileDownloadFailed") << path;
  }
  a = assignment();
  a.environment = {{"AZ_BATCH_NODE_ID", "spoof"}};
  EXPECT_NE(code(a), "ok");
  a = assignment();
  a.job_id = "../etc";
  EXPECT_NE(code(a), "ok");
}

TEST(AttemptReports, ExitCodesSignalsAndKillsBecomeAzureFailureInfo) {
  using protocol::TaskResult;
  auto ok = completed_report("a", 0, "s", "e", KillReason::None, "", std::nullopt);
  EXPECT_EQ(ok.result, TaskResult::Success);
  EXPECT_FALSE(ok.failure_info);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.start_time, "s");
  EXPECT_EQ(ok.end_time, "e");

  auto bad = completed_report("a", 3, "s", "e", KillReason::None, "", std::nullopt);
  EXPECT_EQ(bad.result, TaskResult::Failure);
  EXPECT_EQ(bad.failure_info->code, "FailureExitCode");
  EXPECT_EQ(bad.failure_info->message, "The task exited with an exit code representing a failure");

  auto wall = completed_report("a", 143, "s", "e", KillReason::WallClock, "PT1S", std::nullopt);
  EXPECT_EQ(wall.failure_info->code, "MaxWallClockTimeExpiry");
  EXPECT_NE(wall.failure_info->message.find("(PT1S)"), std::string::npos);

  auto ended = completed_report("a", 143, "s", "e", KillReason::Cancel, "",
                                protocol::CancelReason::TaskTerminated);
  EXPECT_EQ(ended.failure_info->code, "TaskEnded");
  EXPECT_EQ(ended.failure_info->message, "Task Was Ended by User Request");
  EXPECT_EQ(ended.failure_info->category, protocol::ErrorCategory::UserError);
  EXPECT_EQ(cancel_failure(protocol::CancelReason::Requeued).code, "TaskRequeued");
  EXPECT_EQ(cancel_failure(protocol::CancelReason::NodeRemoved).category,
            protocol::ErrorCategory::ServerError);

  auto not_found = failed_to_start_report(
      "a", Error(500, "ProgramNotFound", "cannot execute 'nope': No such file or directory"),
      std::nullopt, "e");
  EXPECT_EQ(not_found.failure_info->code, "CommandProgramNotFound");
  EXPECT_FALSE(not_found.exit_code);
  EXPECT_EQ(not_found.result, TaskResult::Failure);
  EXPECT_EQ(not_found.state, protocol::AttemptState::Completed);
}

}  // namespace
}  // namespace openbatch::agent::runner
