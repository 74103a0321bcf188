// Task request validators (task_validation.hpp).
#include "scheduler/domain/task_validation.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/domain/fields.hpp"
#include "scheduler/domain/parts.hpp"
#include "scheduler/domain/values.hpp"

#include <charconv>

namespace openbatch::domain {
namespace {

using detail::Fields;
using detail::Path;
using nlohmann::json;

constexpr std::string_view kDefaultPrepId = "jobpreparation";
constexpr std::string_view kDefaultReleaseId = "jobrelease";

std::string_view string_member(const json& object, std::string_view key) {
  const json* v = object.is_object() ? detail::find_member(object, key) : nullptr;
  return v != nullptr && v->is_string() ? std::string_view(v->get_ref<const std::string&>())
                                        : std::string_view();
}

bool bool_member(const json& object, std::string_view key) {
  const json* v = object.is_object() ? detail::find_member(object, key) : nullptr;
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

int64_t job_retry_default(const json& job) {
  const json* c = job.is_object() ? detail::find_member(job, "constraints") : nullptr;
  const json* n =
      c != nullptr && c->is_object() ? detail::find_member(*c, "maxTaskRetryCount") : nullptr;
  return n != nullptr && n->is_number_integer() ? n->get<int64_t>() : 0;
}

// The id of the job's preparation/release task, when the job has one.
std::optional<std::string_view> job_task_id(const json& job, std::string_view key,
                                            std::string_view fallback) {
  const json* task = job.is_object() ? detail::find_member(job, key) : nullptr;
  if (task == nullptr) return std::nullopt;
  const std::string_view id = string_member(*task, "id");
  return id.empty() ? fallback : id;
}

Status check_reserved_id(std::string_view id, const json& job) {
  if (auto prep = job_task_id(job, "jobPreparationTask", kDefaultPrepId);
      prep && text::iequals(*prep, id)) {
    return errors::conflict("TaskIdSameAsJobPreparationTask",
                            "The specified task id is the id of the job's preparation task.");
  }
  if (auto release = job_task_id(job, "jobReleaseTask", kDefaultReleaseId);
      release && text::iequals(*release, id)) {
    return errors::conflict("TaskIdSameAsJobReleaseTask",
                            "The specified task id is the id of the job's release task.");
  }
  return {};
}

// The numeric value of an all-digit id, for matching taskIdRanges.
std::optional<int64_t> numeric_id(std::string_view id) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc() || end != id.data() + id.size() || id.front() == '-') return std::nullopt;
  return n;
}

Status check_dependency_ids(const json& ids, const Path& path, std::string_view own_id) {
  if (auto st = detail::require_array(ids, path, kMaxDependencyIdChars); !st) return st;
  std::size_t chars = 0;
  for (const auto& id : ids) {
    if (id.is_string()) chars += id.get_ref<const std::string&>().size();
  }
  if (chars > kMaxDependencyIdChars) {
    return Error(400, "TaskDependencyListTooLong",
                 "The task depends on too many tasks: dependsOn.taskIds exceeds 64000 "
                 "characters. Use taskIdRanges or fewer dependencies.",
                 {{"PropertyName", path.str()}});
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const json& id = ids[i];
    if (!id.is_string() || !is_valid_id(id.get_ref<const std::string&>())) {
      return detail::invalid(path[i], id, "must be a task id");
    }
    if (text::iequals(id.get_ref<const std::string&>(), own_id)) {
      return detail::invalid(path[i], id, "a task cannot depend on itself");
    }
  }
  return {};
}

Status check_depends_on(json& src, json& out, const Path& path, std::string_view own_id) {
  Fields f(src, out, path);
  if (const json* ids = f.find("taskIds")) {
    if (auto st = check_dependency_ids(*ids, f.at("taskIds"), own_id); !st) return st;
  }
  if (auto st = f.keep("taskIds", detail::Kind::Array); !st) return st;
  const auto own_number = numeric_id(own_id);
  auto range = [&own_number](json& s, json& o, const Path& p) -> Status {
    Fields r(s, o, p);
    for (auto key : {"start", "end"}) {
      if (auto st = r.integer(key, {.required = true, .min = 0}); !st) return st;
    }
    const int64_t start = o["start"].get<int64_t>();
    const int64_t end = o["end"].get<int64_t>();
    if (start > end) return detail::invalid(p / "end", o["end"], "must not be less than start");
    if (own_number && *own_number >= start && *own_number <= end) {
      return detail::invalid(p, o, "a task cannot depend on itself");
    }
    return {};
  };
  return f.objects("taskIdRanges", detail::kMaxListItems, range);
}

Status check_multi_instance(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.integer("numberOfInstances", {.min = 1, .fallback = 1}); !st) return st;
  if (auto st = f.string("coordinationCommandLine",
                         {.required = true, .max_chars = detail::kMaxCommandLineChars});
      !st) {
    return st;
  }
  return f.objects("commonResourceFiles", detail::kMaxListItems, detail::check_resource_file);
}

Status check_affinity(json& src, json& out, const Path& path) {
  return Fields(src, out, path).string("affinityId", {.required = true, .max_chars = 1024});
}

// requiredSlots, multiInstanceSettings, and the rule that ties them.
// OpenBatch extension, shaped like Azure Container Instances' resources.requests.gpu:
// {"resources": {"requests": {"gpu": {"count": 1, "sku": "H100", "minCudaVersion": "12.2"}}}}.
Status check_gpu_request(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.integer("count", {.min = 0, .max = 64, .fallback = 0}); !st) return st;
  if (auto st = f.string("sku", {.max_chars = 64}); !st) return st;
  if (auto st = f.string("minCudaVersion", {.max_chars = 16}); !st) return st;
  if (auto it = out.find("minCudaVersion"); it != out.end()) {
    const std::string& text = it->get_ref<const std::string&>();
    int major = -1, minor = 0;
    const char* end = text.data() + text.size();
    auto parsed = std::from_chars(text.data(), end, major);
    if (parsed.ec == std::errc() && parsed.ptr != end && *parsed.ptr == '.') {
      parsed = std::from_chars(parsed.ptr + 1, end, minor);
    }
    if (parsed.ec != std::errc() || parsed.ptr != end || major < 1 || minor < 0 || minor > 99) {
      return detail::invalid(path / "minCudaVersion", *it,
                             "must be a CUDA version such as \"12\" or \"12.2\"");
    }
  }
  return {};
}

Status check_gpu_requests(json& src, json& out, const Path& path) {
  return Fields(src, out, path).object("gpu", check_gpu_request);
}

Status check_resources(json& src, json& out, const Path& path) {
  return Fields(src, out, path).object("requests", check_gpu_requests);
}

Status take_slots(Fields& f) {
  if (auto st = f.integer("requiredSlots", {.min = 1, .fallback = 1}); !st) return st;
  if (auto st = f.object("multiInstanceSettings", check_multi_instance); !st) return st;
  if (f.out().contains("multiInstanceSettings") && f.out()["requiredSlots"] != 1) {
    return detail::invalid(f.at("requiredSlots"), f.out()["requiredSlots"],
                           "must be 1 for a multi-instance task");
  }
  return {};
}

Status take_task_rules(Fields& f, const json& job, std::string_view id) {
  const bool job_actions = string_member(job, "onTaskFailure") == "performexitoptionsjobaction";
  auto exits = [job_actions](json& s, json& o, const Path& p) {
    return detail::check_exit_conditions(s, o, p, job_actions);
  };
  if (auto st = f.object("exitConditions", exits); !st) return st;
  if (f.has("dependsOn") && !bool_member(job, "usesTaskDependencies")) {
    return Error(400, "TaskDependenciesNotSpecifiedOnJob",
                 "The task has dependsOn, but its job was not added with usesTaskDependencies "
                 "set to true.",
                 {{"PropertyName", "dependsOn"}});
  }
  auto depends = [id](json& s, json& o, const Path& p) { return check_depends_on(s, o, p, id); };
  return f.object("dependsOn", depends);
}

}  // namespace

Result<json> validate_task_add(json body, const json& job) {
  if (!body.is_object()) return errors::invalid_body("The request body must be a JSON object.");
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = f.id("id"); !st) return st.error();
  // Moved into `out`, whose members stay put while the rest is added.
  const std::string_view id = out["id"].get_ref<const std::string&>();
  if (auto st = check_reserved_id(id, job); !st) return st.error();
  if (auto st = f.string("displayName", {.max_chars = 1024}); !st) return st.error();
  if (auto st = detail::take_task_command(f); !st) return st.error();
  if (auto st = f.objects("outputFiles", detail::kMaxListItems, detail::check_output_file); !st) {
    return st.error();
  }
  if (auto st = f.object("affinityInfo", check_affinity); !st) return st.error();
  if (auto st = f.object("resources", check_resources); !st) return st.error();
  const int64_t retries = job_retry_default(job);
  auto constraints = [retries](json& s, json& o, const Path& p) {
    return detail::check_task_constraints(s, o, p, retries);
  };
  if (auto st = f.object_or_defaults("constraints", constraints); !st) return st.error();
  if (auto st = take_slots(f); !st) return st.error();
  if (auto st = take_task_rules(f, job, id); !st) return st.error();
  if (auto st = f.objects("applicationPackageReferences", detail::kMaxListItems,
                          detail::check_app_package_reference);
      !st) {
    return st.error();
  }
  if (auto st = f.object("authenticationTokenSettings", detail::check_auth_token_settings); !st) {
    return st.error();
  }
  return out;
}

Result<json> validate_task_update(json body, const json& job) {
  if (body.is_null()) body = json::object();
  if (!body.is_object()) return errors::invalid_body("The request body must be a JSON object.");
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  const int64_t retries = job_retry_default(job);
  auto constraints = [retries](json& s, json& o, const Path& p) {
    return detail::check_task_constraints(s, o, p, retries);
  };
  if (auto st = f.object_or_defaults("constraints", constraints); !st) return st.error();
  return out;
}

}  // namespace openbatch::domain
