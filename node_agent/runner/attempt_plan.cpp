// assignment -> AttemptPlan (see attempt_plan.hpp).
#include "node_agent/runner/attempt_plan.hpp"

#include "node_agent/exec/command_line.hpp"
#include "node_agent/runner/user_identity.hpp"
#include "node_agent/tasks/environment.hpp"

#include <algorithm>
#include <chrono>
#include <unistd.h>

namespace openbatch::agent::runner {
namespace {

// A limit this long (or TimeSpan.MaxValue, Azure's "unlimited") is no limit at all, and would
// overflow a steady_clock deadline.
constexpr Duration kNoWallClockLimit =
    std::chrono::duration_cast<Duration>(std::chrono::hours(24 * 365 * 100));

struct RunAs {
  std::optional<exec::UserIds> user;  // nullopt: the agent's own identity
  std::string os_user;                // AZ_BATCH_TASK_USER
};

Result<RunAs> resolve_identity(const tasks::UserIdentity& identity, const NodeFacts& facts,
                               const UserLookup& lookup, std::string_view task_scope_user) {
  if (facts.run_as_agent_user) return RunAs{std::nullopt, facts.agent_user};
  if (identity.user_name) {
    auto user = lookup(*identity.user_name);
    if (!user) {
      return Error(404, "UserNotFound",
                   "the task's user '" + *identity.user_name +
                       "' does not exist on this node: " + user.error().message);
    }
    return RunAs{std::move(*user), *identity.user_name};
  }
  if (identity.elevation == tasks::ElevationLevel::Admin) {
    exec::UserIds root;
    root.name = "root";
    root.home = "/root";
    return RunAs{std::move(root), "root"};
  }
  const std::string name = identity.scope == tasks::AutoUserScope::Task && !task_scope_user.empty()
                               ? std::string(task_scope_user)
                               : facts.task_user;
  auto user = lookup(name);
  if (!user) {
    return Error(500, "UserNotFound",
                 "the node's task user '" + name + "' does not exist: " + user.error().message);
  }
  return RunAs{std::move(*user), name};
}

std::vector<tasks::EnvironmentSetting> settings(
    const std::vector<protocol::EnvironmentSetting>& in) {
  std::vector<tasks::EnvironmentSetting> out;
  out.reserve(in.size());
  for (const auto& s : in) out.push_back({s.name, s.value});
  return out;
}

tasks::MultiInstanceInfo gang_facts(const protocol::MultiInstance& mi,
                                    const tasks::NodeLayout& layout,
                                    const protocol::Assignment& a) {
  tasks::MultiInstanceInfo info;
  for (const auto& host : mi.host_list) info.hosts.push_back({host, 1});
  info.master_index = 0;  // hostList is in subtask order: the primary's node comes first
  info.is_current_node_master = mi.subtask_id == 0;
  auto task = layout.task(a.job_id, a.task_id);
  if (task) info.task_shared_dir = task->dir;
  return info;
}

// The variables every instance of a multi-instance task gets before the job's and the task's
// own settings (which win): the scheduler's MPI transport choice, mpirun's remote launcher
// (this agent, authenticated to its peers by the task's token), and the hostfile as mpirun's
// default.
std::vector<tasks::EnvironmentSetting> gang_settings(const protocol::MultiInstance& mi,
                                                     const NodeFacts& facts,
                                                     const std::filesystem::path& hostfile,
                                                     bool as_root) {
  std::vector<tasks::EnvironmentSetting> out;
  for (const auto& s : mi.transport_environment) out.push_back({s.name, s.value});
  if (!facts.agent_executable.empty()) {
    out.push_back({"OMPI_MCA_plm_rsh_agent", facts.agent_executable + " rsh"});
  }
  std::string peers;
  for (std::size_t i = 0; i < mi.host_list.size(); ++i) {
    const int port = i < mi.exec_ports.size() ? mi.exec_ports[i] : 0;
    if (port <= 0) continue;
    const std::string endpoint = mi.host_list[i] + ":" + std::to_string(port);
    auto add = [&](const std::string& name) {
      if (name.empty()) return;
      if (!peers.empty()) peers += ',';
      peers += name + "=" + endpoint;
    };
    add(mi.host_list[i]);
    if (i < mi.host_names.size() && mi.host_names[i] != mi.host_list[i]) add(mi.host_names[i]);
  }
  out.push_back({"OPENBATCH_RSH_PEERS", peers});
  out.push_back({"OPENBATCH_RSH_TOKEN", mi.exec_token});
  out.push_back({"OPENBATCH_HOSTFILE", hostfile.string()});
  out.push_back({"OMPI_MCA_orte_default_hostfile", hostfile.string()});
  if (as_root) {
    // An admin task runs as root, which mpirun refuses unless told; the task asked for it.
    out.push_back({"OMPI_ALLOW_RUN_AS_ROOT", "1"});
    out.push_back({"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"});
  }
  return out;
}

// What mpi-transport.txt says: the choice, then NAME=VALUE as the process sees each variable.
std::string transport_log_text(const protocol::MultiInstance& mi,
                               const std::vector<std::string>& env) {
  std::string text =
      "MPI transport chosen by the scheduler: " + (mi.transport.empty() ? "none" : mi.transport) +
      "\n";
  for (const auto& s : mi.transport_environment) {
    const std::string prefix = s.name + "=";
    auto it = std::find_if(env.rbegin(), env.rend(),
                           [&](const std::string& e) { return e.starts_with(prefix); });
    const std::string value = it == env.rend() ? std::string() : it->substr(prefix.size());
    text += prefix + value;
    if (value != s.value)
      text += "    (the task's own setting; the scheduler chose " + s.value + ")";
    text += "\n";
  }
  return text;
}

}  // namespace

std::filesystem::path package_dir(const std::filesystem::path& node_root,
                                  const protocol::PackageRef& package) {
  return tasks::NodeLayout(node_root).applications_dir() /
         (package.application_id + "_" + package.version);
}

std::vector<tasks::AppPackage> app_packages_of(const std::filesystem::path& node_root,
                                               const std::vector<protocol::PackageRef>& packages) {
  std::vector<tasks::AppPackage> out;
  for (const auto& p : packages) {
    const auto dir = package_dir(node_root, p);
    out.push_back({p.application_id, p.version, dir});
    if (p.default_version) out.push_back({p.application_id, std::nullopt, dir});
  }
  return out;
}

Result<AttemptPlan> plan_attempt(const protocol::Assignment& a, const NodeFacts& facts,
                                 const UserLookup& lookup, AttemptKind kind,
                                 std::string_view task_scope_user) {
  AttemptPlan plan;
  const tasks::NodeLayout layout(facts.node_root);
  Result<tasks::TaskPaths> paths = layout.start_task();
  if (kind == AttemptKind::Task) {
    paths = a.multi_instance ? layout.subtask(a.job_id, a.task_id, a.multi_instance->subtask_id)
                             : layout.task(a.job_id, a.task_id);
  }
  if (!paths) return paths.error();
  plan.paths = std::move(*paths);

  auto argv = exec::split_command_line(a.command_line);
  if (!argv) return Error(400, "InvalidCommandLine", argv.error().message);

  auto identity = parse_user_identity(a.user_identity);
  if (!identity) return identity.error();
  auto run_as = resolve_identity(*identity, facts, lookup, task_scope_user);
  if (!run_as) return run_as.error();

  auto files = parse_resource_files(a.resource_files);
  if (!files) return files.error();
  plan.resource_files = std::move(*files);

  if (a.constraints.max_wall_clock_time) {
    auto limit = parse_duration(*a.constraints.max_wall_clock_time, "maxWallClockTime");
    if (!limit) return Error(400, "InvalidMaxWallClockTime", limit.error().message);
    if (*limit < kNoWallClockLimit) {
      plan.max_wall_clock = *limit;
      plan.max_wall_clock_text = *a.constraints.max_wall_clock_time;
    }
  }

  tasks::EnvironmentInput env;
  env.kind = a.multi_instance ? tasks::TaskKind::MultiInstance : tasks::TaskKind::Task;
  if (kind == AttemptKind::StartTask) env.kind = tasks::TaskKind::StartTask;
  env.account_name = facts.account_name;
  env.account_url = facts.account_url;
  env.pool_id = facts.pool_id;
  env.node_id = facts.node_id;
  env.node_root = layout.root();
  env.job_id = a.job_id;
  env.task_id = a.task_id;
  env.task_dir = plan.paths.dir;
  env.os_user = run_as->os_user;
  env.identity = *identity;
  if (a.multi_instance) env.multi_instance = gang_facts(*a.multi_instance, layout, a);
  env.app_packages = facts.pool_packages;
  for (auto& p : app_packages_of(facts.node_root, a.application_packages)) {
    env.app_packages.push_back(std::move(p));
  }
  env.job_settings = settings(a.job_environment);
  env.task_settings = settings(a.environment);
  if (a.multi_instance && kind == AttemptKind::Task) {
    const protocol::MultiInstance& mi = *a.multi_instance;
    plan.shared_dir = env.multi_instance->task_shared_dir;
    plan.hostfile = plan.shared_dir / "hostfile";
    for (const auto& host : mi.host_list) plan.hostfile_text += host + " slots=1\n";
    auto common = parse_resource_files(mi.common_resource_files);
    if (!common) return common.error();
    plan.common_resource_files = std::move(*common);
    // The primary alone downloads the task's resourceFiles (batch-api.md section 11).
    if (mi.subtask_id != 0) plan.resource_files.clear();
    if (!mi.coordination_command_line.empty()) {
      auto coordination = exec::split_command_line(mi.coordination_command_line);
      if (!coordination) return Error(400, "InvalidCommandLine", coordination.error().message);
      plan.coordination_argv = std::move(*coordination);
    }
    const bool as_root = run_as->user ? run_as->user->uid == 0 : ::geteuid() == 0;
    auto gang = gang_settings(mi, facts, plan.hostfile, as_root);
    gang.insert(gang.end(), env.job_settings.begin(), env.job_settings.end());
    env.job_settings = std::move(gang);
  }
  auto vars = tasks::build_environment(env);
  if (!vars) return vars.error();
  plan.spec.env = std::move(*vars);
  plan.spec.env.insert(plan.spec.env.end(), facts.node_environment.begin(),
                       facts.node_environment.end());
  if (a.multi_instance && kind == AttemptKind::Task) {
    plan.transport_log = plan.paths.dir / "mpi-transport.txt";
    plan.transport_log_text = transport_log_text(*a.multi_instance, plan.spec.env);
  }
  if (!a.gpu_uuids.empty()) {
    // CUDA accepts GPU UUIDs here; a task's own setting of the name wins.
    const bool set_by_task =
        std::any_of(plan.spec.env.begin(), plan.spec.env.end(),
                    [](const std::string& e) { return e.starts_with("CUDA_VISIBLE_DEVICES="); });
    if (!set_by_task) {
      std::string list;
      for (const auto& uuid : a.gpu_uuids) list += (list.empty() ? "" : ",") + uuid;
      plan.spec.env.push_back("CUDA_VISIBLE_DEVICES=" + list);
    }
  }

  plan.spec.argv = std::move(*argv);
  plan.spec.cwd = plan.paths.working_dir;
  plan.spec.stdout_file = exec::OutputFile{plan.paths.stdout_file, exec::OutputMode::Truncate};
  plan.spec.stderr_file = exec::OutputFile{plan.paths.stderr_file, exec::OutputMode::Truncate};
  plan.spec.new_process_group = true;
  if (run_as->user) {
    const exec::UserIds& u = *run_as->user;
    plan.spec.uid = u.uid;
    plan.spec.gid = u.gid;
    plan.spec.groups = u.groups;
    if (u.uid != 0) plan.owner = FileOwner{u.uid, u.gid};
  }
  return plan;
}

}  // namespace openbatch::agent::runner
