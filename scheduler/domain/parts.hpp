// Validators for the pieces that pools, jobs and tasks share: resource files, environment
// settings, user identities, container settings, start tasks, constraints, output files,
// exit conditions, application package references and metadata (batch-api.md sections 2, 4,
// 5 and 12). Each has the shape Fields::object()/objects() call:
//   Status check_x(json& src, json& out, const Path& path)
// moving what passes from `src` into `out`. Internal to scheduler/domain. Pure; thread-safe.
#pragma once

#include "scheduler/domain/fields.hpp"

#include <cstdint>
#include <string_view>

namespace openbatch::domain::detail {

// Azure caps a start task at 32768 characters: command line, resource files and environment
// together. OpenBatch applies the same bound to one task command line (long inline
// `/bin/sh -c "..."` scripts are common; the whole request is bounded elsewhere).
constexpr std::size_t kMaxStartTaskChars = 32768;
constexpr std::size_t kMaxCommandLineChars = 32768;
constexpr std::size_t kMaxUrlChars = 8192;
constexpr std::size_t kMaxPathChars = 1024;
constexpr std::size_t kMaxAppPackageRefs = 10;
// Lists with no Azure limit of their own still get one so that a request stays bounded.
constexpr std::size_t kMaxListItems = 4096;

constexpr int64_t kRetryUnlimited = -1;
constexpr std::string_view kDefaultRetention = "P7D";

// Relative path that stays inside its base directory: not empty, not absolute (no leading
// '/' or '\', no drive letter), no ".." component, no NUL.
bool is_safe_relative_path(std::string_view path);

Status check_environment_setting(json& src, json& out, const Path& path);
Status check_resource_file(json& src, json& out, const Path& path);
Status check_user_identity(json& src, json& out, const Path& path);
Status check_container_settings(json& src, json& out, const Path& path);
Status check_app_package_reference(json& src, json& out, const Path& path);
Status check_metadata_item(json& src, json& out, const Path& path);
Status check_output_file(json& src, json& out, const Path& path);
Status check_start_task(json& src, json& out, const Path& path);
// authenticationTokenSettings {access: ["job"]} (deprecated by Azure; stored, not acted on).
Status check_auth_token_settings(json& src, json& out, const Path& path);

// Task constraints, defaults filled: maxWallClockTime unlimited, retentionTime P7D,
// maxTaskRetryCount = `default_retries` (the job's).
Status check_task_constraints(json& src, json& out, const Path& path, int64_t default_retries);
// Job constraints, defaults filled: maxWallClockTime unlimited, maxTaskRetryCount 0.
Status check_job_constraints(json& src, json& out, const Path& path);

// exitConditions; `job_actions_allowed` is whether the job's onTaskFailure is
// performexitoptionsjobaction (otherwise any jobAction is a 400).
Status check_exit_conditions(json& src, json& out, const Path& path, bool job_actions_allowed);

// resourceFiles and environmentSettings, which every task-like object has.
Status take_task_lists(Fields& f);
// commandLine (required), containerSettings, resourceFiles, environmentSettings and
// userIdentity: the members tasks and job manager/preparation/release tasks share.
Status take_task_command(Fields& f);

}  // namespace openbatch::domain::detail
