// build_environment: the process environment of a start task, a task, or one instance of a
// multi-instance task, following batch-api.md section 10.
//
// Pure: the input is a plain struct (decoded elsewhere from the pool, job and task), the output
// an ordered NAME=VALUE list ready for LaunchSpec::env. Order: the AZ_BATCH_* variables in the
// order of the section 10 table, HOME, PATH, then the job's commonEnvironmentSettings (never for
// a start task) and the task's environmentSettings. A task value replaces a job value of the same
// name in place. User settings may replace HOME, PATH and any other name, but not a variable the
// agent owns (AZ_BATCH_* and CCP_NODES): those are Errors. Thread-safe: no shared state.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::tasks {

// The PATH a task starts from before $ROOT/shared and its wd are appended.
inline constexpr std::string_view kDefaultBasePath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum class TaskKind { StartTask, Task, MultiInstance };

enum class AutoUserScope { Pool, Task };
enum class ElevationLevel { NonAdmin, Admin };

// userIdentity as the API carries it: a named user, or an auto-user (scope + elevation).
struct UserIdentity {
  std::optional<std::string> user_name;  // set: a named pool user
  AutoUserScope scope = AutoUserScope::Pool;
  ElevationLevel elevation = ElevationLevel::NonAdmin;
};

// AZ_BATCH_TASK_USER_IDENTITY: PoolNonAdmin, PoolAdmin, TaskNonAdmin, TaskAdmin or the name.
std::string user_identity_label(const UserIdentity& identity);

struct EnvironmentSetting {
  std::string name;
  std::string value;
};

// An installed application package. No version means the reference asked for the
// application's default version: only AZ_BATCH_APP_PACKAGE_<id> is exported then.
struct AppPackage {
  std::string application_id;
  std::optional<std::string> version;
  std::filesystem::path dir;
};

// The AZ_BATCH_APP_PACKAGE_* names for a package: the case-kept spelling first, then the
// all-lowercase one when it differs. '.', '-' and '#' become '_'.
std::vector<std::string> app_package_variable_names(std::string_view application_id,
                                                    const std::optional<std::string>& version);

struct InstanceHost {
  std::string ip;
  std::uint32_t cores = 1;
};

// What one instance of a multi-instance task knows about the whole gang.
struct MultiInstanceInfo {
  std::vector<InstanceHost> hosts;   // all N nodes, primary's node first by convention
  std::size_t master_index = 0;      // index in `hosts` of the primary's node
  std::uint16_t master_port = 6000;  // Batch's port in AZ_BATCH_MASTER_NODE
  bool is_current_node_master = false;
  std::filesystem::path task_shared_dir;  // workitems/<job>/job-1/<task>, same on every node
};

struct EnvironmentInput {
  TaskKind kind = TaskKind::Task;

  // Node facts.
  std::string account_name;
  std::string account_url;
  std::string pool_id;
  std::string node_id;
  bool node_is_dedicated = true;
  std::filesystem::path node_root;  // AZ_BATCH_NODE_ROOT_DIR

  // The task (job and task ids are ignored for a start task).
  std::string job_id;
  std::string task_id;
  std::filesystem::path task_dir;  // AZ_BATCH_TASK_DIR; its wd and certs are derived
  std::string os_user;             // AZ_BATCH_TASK_USER, e.g. _azbatch
  UserIdentity identity;
  std::uint64_t reserved_ephemeral_disk_space_bytes = 0;
  std::optional<std::string> authentication_token;  // tasks only (not start task)

  std::vector<AppPackage> app_packages;             // pool packages, plus the task's for a task
  std::optional<MultiInstanceInfo> multi_instance;  // required for TaskKind::MultiInstance

  std::string base_path = std::string(kDefaultBasePath);
  std::vector<EnvironmentSetting> job_settings;   // commonEnvironmentSettings
  std::vector<EnvironmentSetting> task_settings;  // environmentSettings
};

// Builds the environment; an Error (400) for a bad setting name, a user setting naming a
// reserved variable, or a multi-instance input without its gang facts.
[[nodiscard]] Result<std::vector<std::string>> build_environment(const EnvironmentInput& in);

}  // namespace openbatch::agent::tasks
