// plan_attempt: everything the runner needs to run one assignment -- its directories, the
// LaunchSpec, who owns the task directory, the resource files to fetch and the wall-clock
// limit -- computed from the assignment and the node's facts, without any I/O. The one
// outside lookup (a user name to its ids) is injected, so tests pass a table.
//
// Identity (architecture.md "Security": nonadmin tasks never run as root):
//   autoUser admin            -> root (uid 0, gid 0, no supplementary groups)
//   autoUser nonadmin, or {}  -> the node's task user (--task-user, default _azbatch)
//   username "u"              -> the local user u (missing: the attempt fails, UserNotFound)
// When the agent does not run as root it cannot switch users: every task runs as the agent's
// own user (run_as_agent_user).
//
// Failures are Errors whose code and message become the report's failureInfo (usererror):
// InvalidCommandLine, UserNotFound, InvalidUserIdentity, ResourceFileDownloadFailed,
// InvalidPropertyValue (an id or environment setting), InvalidMaxWallClockTime.
// Pure; thread-safe.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "common/time.hpp"
#include "node_agent/exec/launch_spec.hpp"
#include "node_agent/exec/user.hpp"
#include "node_agent/runner/resource_files.hpp"
#include "node_agent/tasks/environment.hpp"
#include "node_agent/tasks/layout.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::runner {

// What the node knows about itself; account and pool facts come from welcome.
struct NodeFacts {
  std::string account_name;
  std::string account_url;
  std::string pool_id;
  std::string node_id;
  std::filesystem::path node_root;  // AZ_BATCH_NODE_ROOT_DIR
  std::string task_user = "_azbatch";
  // Task-scope auto-users ({"autoUser": {"scope": "task"}}, nonadmin) run as one of the
  // node's leased task users, <task_scope_user_prefix><n>: no two running tasks share one,
  // and a finished task's directory is handed to root, so the next lessee cannot read it.
  std::string task_scope_user_prefix = "_azbatchtask";
  bool run_as_agent_user = false;  // the agent is not root: no user switching
  std::string agent_user;          // the agent's own user name (AZ_BATCH_TASK_USER then)
  // The pool's installed application packages (set by the node setup): every start task and
  // task sees their AZ_BATCH_APP_PACKAGE_* variables.
  std::vector<tasks::AppPackage> pool_packages;
  // Extra NAME=VALUE pairs for every process the agent starts (e.g. OPENBATCH_GPU_INVENTORY
  // when discovery reads a GPU fixture, so that a driver installer can update it).
  std::vector<std::string> node_environment;
  // The agent's own executable: multi-instance tasks get
  // OMPI_MCA_plm_rsh_agent="<it> rsh", so mpirun starts remote daemons through the peer
  // agents ("" = not set).
  std::string agent_executable;
};

// What an attempt is: a task of a job, or the pool's start task (startup/ directory, the start
// task's environment, never counted in slots or reported to the scheduler as a task).
enum class AttemptKind { Task, StartTask };

// The directory a package installs into: $ROOT/applications/<applicationId>_<version>.
std::filesystem::path package_dir(const std::filesystem::path& node_root,
                                  const protocol::PackageRef& package);
// The packages as the environment builder wants them; a package installed as the application's
// default version is listed twice, so that both AZ_BATCH_APP_PACKAGE_<id> and the versioned
// name are set.
std::vector<tasks::AppPackage> app_packages_of(const std::filesystem::path& node_root,
                                               const std::vector<protocol::PackageRef>& packages);

using UserLookup = std::function<Result<exec::UserIds>(std::string_view name)>;

struct AttemptPlan {
  tasks::TaskPaths paths;
  exec::LaunchSpec spec;  // the task's command (a multi-instance task: the application command)
  // A multi-instance instance: AZ_BATCH_TASK_SHARED_DIR, its commonResourceFiles, the
  // hostfile's path and text, and the coordination command (argv empty: none).
  std::filesystem::path shared_dir;
  std::vector<ResourceFile> common_resource_files;
  std::filesystem::path hostfile;
  std::string hostfile_text;
  // The instance's MPI transport log, mpi-transport.txt beside stdout.txt: the scheduler's
  // choice and the value of each of its variables the process really gets (the task's own
  // settings win, and are marked so).
  std::filesystem::path transport_log;
  std::string transport_log_text;
  std::vector<std::string> coordination_argv;
  // Who must own the task directory, wd and the downloaded files (nonadmin identities).
  std::optional<FileOwner> owner;
  std::vector<ResourceFile> resource_files;
  // The maxWallClockTime constraint when it limits anything, and its text for messages.
  std::optional<Duration> max_wall_clock;
  std::string max_wall_clock_text;
};

// `task_scope_user`: the leased user a task-scope nonadmin identity runs as ("" = none leased:
// the pool's task user).
[[nodiscard]] Result<AttemptPlan> plan_attempt(const protocol::Assignment& assignment,
                                               const NodeFacts& facts, const UserLookup& lookup,
                                               AttemptKind kind = AttemptKind::Task,
                                               std::string_view task_scope_user = {});

}  // namespace openbatch::agent::runner
