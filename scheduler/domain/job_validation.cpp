// Job request validators (job_validation.hpp).
#include "scheduler/domain/job_validation.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/domain/duration.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/fields.hpp"
#include "scheduler/domain/parts.hpp"
#include "scheduler/domain/values.hpp"

namespace openbatch::domain {
namespace {

using detail::Fields;
using detail::Kind;
using detail::Path;
using nlohmann::json;

constexpr std::string_view kDefaultPrepId = "jobpreparation";
constexpr std::string_view kDefaultReleaseId = "jobrelease";
constexpr std::size_t kMaxAutoPoolPrefix = 20;
constexpr std::size_t kMaxTerminateReason = 1024;

Status require_body(const json& body) {
  if (!body.is_object()) return errors::invalid_body("The request body must be a JSON object.");
  return {};
}

std::string_view string_member(const json& object, std::string_view key) {
  const json* v = object.is_object() ? detail::find_member(object, key) : nullptr;
  return v != nullptr && v->is_string() ? std::string_view(v->get_ref<const std::string&>())
                                        : std::string_view();
}

int64_t retry_default(const json& job) {
  const json* c = detail::find_member(job, "constraints");
  const json* n =
      c != nullptr && c->is_object() ? detail::find_member(*c, "maxTaskRetryCount") : nullptr;
  return n != nullptr && n->is_number_integer() ? n->get<int64_t>() : 0;
}

Status check_auto_pool(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (const json* prefix = f.find("autoPoolIdPrefix");
      prefix != nullptr &&
      (!prefix->is_string() || prefix->get<std::string>().size() > kMaxAutoPoolPrefix ||
       !is_valid_id(prefix->get<std::string>()))) {
    return detail::invalid(f.at("autoPoolIdPrefix"), *prefix,
                           "must be 1 to 20 characters from letters, digits, hyphens and "
                           "underscores");
  }
  if (auto st = f.string("autoPoolIdPrefix", {.max_chars = kMaxAutoPoolPrefix}); !st) return st;
  if (auto st = f.enumeration("poolLifetimeOption", {"job", "jobschedule"}, std::nullopt, true);
      !st) {
    return st;
  }
  if (auto st = f.boolean("keepAlive", false); !st) return st;
  if (!f.has("pool")) return detail::missing(f.at("pool"));
  return f.keep("pool", Kind::Object);
}

Status check_pool_info(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  const bool by_id = f.has("poolId");
  const bool automatic = f.has("autoPoolSpecification");
  if (by_id && automatic) {
    return detail::invalid(path, src, "specify either poolId or autoPoolSpecification, not both");
  }
  if (!by_id && !automatic) return detail::missing(f.at("poolId"));
  if (auto st = f.id("poolId", false); !st) return st;
  return f.object("autoPoolSpecification", check_auto_pool);
}

// maxParallelTasks: -1 (unlimited) or at least 1.
Status take_max_parallel(Fields& f, std::optional<int64_t> fallback) {
  if (auto st = f.integer("maxParallelTasks", {.min = -1, .fallback = fallback}); !st) return st;
  if (const json* v = detail::find_member(f.out(), "maxParallelTasks");
      v != nullptr && v->get<int64_t>() == 0) {
    return detail::invalid(f.at("maxParallelTasks"), *v, "must be -1 (unlimited) or at least 1");
  }
  return {};
}

Status check_manager_task(json& src, json& out, const Path& path, int64_t retries) {
  Fields f(src, out, path);
  if (auto st = f.id("id"); !st) return st;
  if (auto st = f.string("displayName", {.max_chars = 1024}); !st) return st;
  if (auto st = detail::take_task_command(f); !st) return st;
  if (auto st = f.objects("outputFiles", detail::kMaxListItems, detail::check_output_file); !st) {
    return st;
  }
  auto constraints = [retries](json& s, json& o, const Path& p) {
    return detail::check_task_constraints(s, o, p, retries);
  };
  if (auto st = f.object_or_defaults("constraints", constraints); !st) return st;
  if (auto st = f.integer("requiredSlots", {.min = 1, .fallback = 1}); !st) return st;
  for (auto key : {"killJobOnCompletion", "runExclusive", "allowLowPriorityNode"}) {
    if (auto st = f.boolean(key, true); !st) return st;
  }
  if (auto st = f.objects("applicationPackageReferences", detail::kMaxListItems,
                          detail::check_app_package_reference);
      !st) {
    return st;
  }
  return f.object("authenticationTokenSettings", detail::check_auth_token_settings);
}

Status check_preparation_task(json& src, json& out, const Path& path, int64_t retries) {
  Fields f(src, out, path);
  if (auto st = f.id("id", false); !st) return st;
  if (!out.contains("id")) out["id"] = kDefaultPrepId;
  if (auto st = detail::take_task_command(f); !st) return st;
  auto constraints = [retries](json& s, json& o, const Path& p) {
    return detail::check_task_constraints(s, o, p, retries);
  };
  if (auto st = f.object_or_defaults("constraints", constraints); !st) return st;
  if (auto st = f.boolean("waitForSuccess", true); !st) return st;
  return f.boolean("rerunOnNodeRebootAfterSuccess", true);
}

Status check_release_task(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.id("id", false); !st) return st;
  if (!out.contains("id")) out["id"] = kDefaultReleaseId;
  if (auto st = detail::take_task_command(f); !st) return st;
  // Azure caps a release task at 15 minutes, which is also its default.
  if (auto st =
          f.duration("maxWallClockTime",
                     {.min_ticks = 1, .max_ticks = 15 * kTicksPerMinute, .fallback = "PT15M"});
      !st) {
    return st;
  }
  return f.duration("retentionTime", {.fallback = detail::kDefaultRetention});
}

Status take_job_tasks(Fields& f) {
  const int64_t retries = retry_default(f.out());
  auto manager = [retries](json& s, json& o, const Path& p) {
    return check_manager_task(s, o, p, retries);
  };
  auto preparation = [retries](json& s, json& o, const Path& p) {
    return check_preparation_task(s, o, p, retries);
  };
  if (auto st = f.object("jobManagerTask", manager); !st) return st;
  if (auto st = f.object("jobPreparationTask", preparation); !st) return st;
  if (f.has("jobReleaseTask") && !f.out().contains("jobPreparationTask")) {
    return detail::invalid(f.at("jobReleaseTask"), *f.find("jobReleaseTask"),
                           "a job release task requires a job preparation task");
  }
  if (auto st = f.object("jobReleaseTask", check_release_task); !st) return st;
  if (f.out().contains("jobReleaseTask") &&
      text::iequals(string_member(f.out()["jobPreparationTask"], "id"),
                    string_member(f.out()["jobReleaseTask"], "id"))) {
    const Path release = f.at("jobReleaseTask");
    return detail::invalid(release / "id", f.out()["jobReleaseTask"]["id"],
                           "must differ from the job preparation task's id");
  }
  return {};
}

// The properties PATCH and PUT share. `fill` writes the defaults of absent ones (PUT).
Status take_updatable(Fields& f, bool fill) {
  auto when = [fill](auto v) { return fill ? std::optional(v) : std::nullopt; };
  if (auto st = f.integer("priority", {.min = -1000, .max = 1000, .fallback = when(int64_t{0})});
      !st) {
    return st;
  }
  if (auto st = take_max_parallel(f, when(int64_t{-1})); !st) return st;
  if (auto st = f.boolean("allowTaskPreemption", when(false)); !st) return st;
  if (auto st = f.enumeration("onAllTasksComplete", {"noaction", "terminatejob"},
                              when(std::string_view("noaction")));
      !st) {
    return st;
  }
  auto st = fill ? f.object_or_defaults("constraints", detail::check_job_constraints)
                 : f.object("constraints", detail::check_job_constraints);
  if (!st) return st;
  if (auto s2 = f.object("poolInfo", check_pool_info, fill); !s2) return s2;
  if (auto s2 = f.objects("metadata", detail::kMaxListItems, detail::check_metadata_item); !s2) {
    return s2;
  }
  if (fill && !f.out().contains("metadata")) f.out()["metadata"] = json::array();
  return {};
}

// The change rules that depend on the stored job.
Status check_against_current(const json& out, const json& current, const Path& root,
                             bool pool_info_always_changes) {
  if (string_member(out, "onAllTasksComplete") == "noaction" &&
      string_member(current, "onAllTasksComplete") == "terminatejob") {
    return errors::invalid_property(
        (root / "onAllTasksComplete").str(), "noaction",
        "A job's onAllTasksComplete cannot be changed from terminatejob to noaction.");
  }
  const json* pool_info = detail::find_member(out, "poolInfo");
  if (pool_info == nullptr || job_state(current) == JobState::Disabled) return {};
  bool changes = pool_info_always_changes;
  if (!changes) {
    const json* old_info = current.is_object() ? detail::find_member(current, "poolInfo") : nullptr;
    const std::string_view new_id = string_member(*pool_info, "poolId");
    changes = old_info == nullptr ||
              (new_id.empty() ? *old_info != *pool_info
                              : !text::iequals(new_id, string_member(*old_info, "poolId")));
  }
  if (!changes) return {};
  return errors::conflict("OperationInvalidForCurrentState",
                          "The poolInfo of a job can be changed only while the job is disabled.");
}

}  // namespace

Result<json> validate_job_add(json body) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = f.id("id"); !st) return st.error();
  if (auto st = f.string("displayName", {.max_chars = 1024}); !st) return st.error();
  if (auto st = take_updatable(f, true); !st) return st.error();
  if (auto st =
          f.enumeration("onTaskFailure", {"noaction", "performexitoptionsjobaction"}, "noaction");
      !st) {
    return st.error();
  }
  if (auto st = f.objects("commonEnvironmentSettings", detail::kMaxListItems,
                          detail::check_environment_setting);
      !st) {
    return st.error();
  }
  if (auto st = f.boolean("usesTaskDependencies", false); !st) return st.error();
  if (auto st = take_job_tasks(f); !st) return st.error();
  if (auto st = f.keep("networkConfiguration", Kind::Object); !st) return st.error();
  // metadata is [] after take_updatable's PUT-style default; on add, absent stays absent.
  if (out["metadata"].empty()) out.erase("metadata");
  return out;
}

Result<json> validate_job_patch(json body, const json& current_job) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = take_updatable(f, false); !st) return st.error();
  if (auto st = check_against_current(out, current_job, root, true); !st) return st.error();
  return out;
}

Result<json> validate_job_update(json body, const json& current_job) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = take_updatable(f, true); !st) return st.error();
  if (auto st = check_against_current(out, current_job, root, false); !st) return st.error();
  return out;
}

Result<json> validate_job_terminate(json body) {
  if (body.is_null()) body = json::object();
  if (auto st = require_body(body); !st) return st.error();
  // An empty reason means the caller has none to give: use the default, as for no body.
  if (auto it = body.find("terminateReason"); it != body.end() && *it == "") body.erase(it);
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = f.string("terminateReason", {.max_chars = kMaxTerminateReason}); !st) {
    return st.error();
  }
  if (!out.contains("terminateReason")) out["terminateReason"] = "UserTerminate";
  return out;
}

Result<json> validate_job_disable(json body) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = f.enumeration("disableTasks", {"requeue", "terminate", "wait"}, std::nullopt, true);
      !st) {
    return st.error();
  }
  return out;
}

}  // namespace openbatch::domain
