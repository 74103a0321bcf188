// The shared sub-validators of parts.hpp.
#include "scheduler/domain/parts.hpp"

#include "scheduler/domain/duration.hpp"
#include "scheduler/domain/values.hpp"

namespace openbatch::domain::detail {
namespace {

bool is_octal_mode(std::string_view mode) {
  if (mode.size() < 3 || mode.size() > 4) return false;
  for (char c : mode) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

Status safe_path(Fields& f, std::string_view key) {
  const json* v = f.find(key);
  if (v == nullptr || !v->is_string()) return {};
  if (!is_safe_relative_path(v->get_ref<const std::string&>())) {
    return invalid(f.at(key), *v,
                   "must be a relative path that stays inside the task directory (no leading "
                   "'/', no '..')");
  }
  return {};
}

std::size_t string_chars(const json& object) {
  std::size_t n = 0;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) n += value.get_ref<const std::string&>().size();
  }
  return n;
}

// Command line + resource file strings + environment names and values.
std::size_t start_task_chars(const json& task) {
  std::size_t n = task["commandLine"].get_ref<const std::string&>().size();
  for (const char* list : {"resourceFiles", "environmentSettings"}) {
    if (const json* items = find_member(task, list)) {
      for (const auto& item : *items) n += string_chars(item);
    }
  }
  return n;
}

Status check_auto_user(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.enumeration("scope", {"task", "pool"}, "pool"); !st) return st;
  return f.enumeration("elevationLevel", {"nonadmin", "admin"}, "nonadmin");
}

Status check_exit_options(json& src, json& out, const Path& path, bool job_actions_allowed) {
  Fields f(src, out, path);
  if (const json* action = f.find("jobAction"); action != nullptr && !job_actions_allowed) {
    return invalid(f.at("jobAction"), *action,
                   "jobAction requires the job's onTaskFailure to be performexitoptionsjobaction");
  }
  if (auto st = f.enumeration("jobAction", {"none", "disable", "terminate"}); !st) return st;
  return f.enumeration("dependencyAction", {"satisfy", "block"});
}

}  // namespace

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.front() == '\\') return false;
  if (path.size() >= 2 && path[1] == ':') return false;  // C:\... is absolute on Windows
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return path.find('\0') == std::string_view::npos;
}

Status check_environment_setting(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (const json* name = f.find("name"); name != nullptr && name->is_string()) {
    const auto& text = name->get_ref<const std::string&>();
    if (text.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
      return invalid(f.at("name"), *name, "must not contain '=' or NUL");
    }
  }
  if (auto st = f.string("name", {.required = true, .max_chars = 1024}); !st) return st;
  return f.string("value", {.max_chars = kMaxStartTaskChars, .allow_empty = true});
}

Status check_resource_file(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  const bool http = f.has("httpUrl");
  const int sources =
      int(http) + int(f.has("storageContainerUrl")) + int(f.has("autoStorageContainerName"));
  if (sources != 1) {
    return invalid(path, src,
                   "must specify exactly one of httpUrl, storageContainerUrl and "
                   "autoStorageContainerName");
  }
  if (http && f.has("blobPrefix")) {
    return invalid(f.at("blobPrefix"), *f.find("blobPrefix"),
                   "blobPrefix applies only to storageContainerUrl or autoStorageContainerName");
  }
  if (auto st = safe_path(f, "filePath"); !st) return st;
  if (const json* mode = f.find("fileMode");
      mode != nullptr && (!mode->is_string() || !is_octal_mode(mode->get<std::string>()))) {
    return invalid(f.at("fileMode"), *mode, "must be an octal mode such as 0770");
  }
  for (auto key : {"httpUrl", "storageContainerUrl"}) {
    if (auto st = f.string(key, {.max_chars = kMaxUrlChars}); !st) return st;
  }
  if (auto st = f.string("autoStorageContainerName", {.max_chars = kMaxPathChars}); !st) return st;
  if (auto st = f.string("filePath", {.required = http, .max_chars = kMaxPathChars}); !st) {
    return st;
  }
  if (auto st = f.string("blobPrefix", {.max_chars = kMaxPathChars}); !st) return st;
  if (auto st = f.string("fileMode", {.max_chars = 4}); !st) return st;
  return f.keep("identityReference", Kind::Object);
}

Status check_user_identity(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  const bool user = f.has("username");
  const bool auto_user = f.has("autoUser");
  if (user == auto_user) {
    return invalid(path, src,
                   user ? "specify either username or autoUser, not both"
                        : "must specify username or autoUser");
  }
  if (auto st = f.string("username", {.max_chars = 256}); !st) return st;
  return f.object("autoUser", check_auto_user);
}

Status check_container_settings(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("imageName", {.required = true, .max_chars = kMaxUrlChars}); !st) {
    return st;
  }
  if (auto st = f.string("containerRunOptions", {.max_chars = kMaxStartTaskChars}); !st) {
    return st;
  }
  if (auto st = f.keep("registry", Kind::Object); !st) return st;
  return f.enumeration("workingDirectory", {"taskWorkingDirectory", "containerImageDefault"});
}

Status check_app_package_reference(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.id("applicationId"); !st) return st;
  return f.string("version", {.max_chars = 64});
}

Status check_metadata_item(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("name", {.required = true, .max_chars = 1024}); !st) return st;
  return f.string("value",
                  {.required = true, .max_chars = kMaxStartTaskChars, .allow_empty = true});
}

Status check_output_file(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("filePattern", {.required = true, .max_chars = kMaxPathChars}); !st) {
    return st;
  }
  auto container = [](json& s, json& o, const Path& p) -> Status {
    Fields c(s, o, p);
    if (auto st = c.string("containerUrl", {.required = true, .max_chars = kMaxUrlChars}); !st) {
      return st;
    }
    if (auto st = c.string("path", {.max_chars = kMaxPathChars}); !st) return st;
    if (auto st = c.keep("identityReference", Kind::Object); !st) return st;
    return c.keep("uploadHeaders", Kind::Array);
  };
  auto destination = [&container](json& s, json& o, const Path& p) -> Status {
    return Fields(s, o, p).object("container", container, true);
  };
  if (auto st = f.object("destination", destination, true); !st) return st;
  auto options = [](json& s, json& o, const Path& p) -> Status {
    return Fields(s, o, p).enumeration(
        "uploadCondition", {"tasksuccess", "taskfailure", "taskcompletion"}, std::nullopt, true);
  };
  return f.object("uploadOptions", options, true);
}

Status take_task_lists(Fields& f) {
  if (auto st = f.objects("resourceFiles", kMaxListItems, check_resource_file); !st) return st;
  return f.objects("environmentSettings", kMaxListItems, check_environment_setting);
}

Status take_task_command(Fields& f) {
  if (auto st = f.string("commandLine", {.required = true, .max_chars = kMaxCommandLineChars});
      !st) {
    return st;
  }
  if (auto st = f.object("containerSettings", check_container_settings); !st) return st;
  if (auto st = take_task_lists(f); !st) return st;
  return f.object("userIdentity", check_user_identity);
}

Status check_start_task(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("commandLine", {.required = true, .max_chars = kMaxStartTaskChars}); !st) {
    return st;
  }
  if (auto st = take_task_lists(f); !st) return st;
  if (auto st = f.object("userIdentity", check_user_identity); !st) return st;
  if (auto st = f.integer("maxTaskRetryCount", {.min = kRetryUnlimited, .fallback = 0}); !st) {
    return st;
  }
  if (auto st = f.boolean("waitForSuccess", true); !st) return st;
  if (auto st = f.object("containerSettings", check_container_settings); !st) return st;
  if (const std::size_t n = start_task_chars(out); n > kMaxStartTaskChars) {
    return errors::invalid_property(
        path.str(), std::to_string(n) + " characters",
        "The start task (command line, resource files and environment settings together) must "
        "not exceed 32768 characters.");
  }
  return {};
}

Status check_auth_token_settings(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  const json* access = f.find("access");
  if (access == nullptr) return {};
  const Path list = f.at("access");
  if (auto st = require_array(*access, list, 1); !st) return st;
  json canonical = json::array();
  for (std::size_t i = 0; i < access->size(); ++i) {
    const json& a = (*access)[i];
    std::optional<std::string_view> m;
    if (a.is_string()) m = match_enum(a.get_ref<const std::string&>(), {"job"});
    if (!m) return invalid(list[i], a, "must be one of: job");
    canonical.push_back(*m);
  }
  out["access"] = std::move(canonical);
  return {};
}

Status check_task_constraints(json& src, json& out, const Path& path, int64_t default_retries) {
  Fields f(src, out, path);
  if (auto st = f.duration("maxWallClockTime", {.min_ticks = 1, .fallback = kUnlimitedDuration});
      !st) {
    return st;
  }
  if (auto st = f.duration("retentionTime", {.fallback = kDefaultRetention}); !st) return st;
  return f.integer("maxTaskRetryCount", {.min = kRetryUnlimited, .fallback = default_retries});
}

Status check_job_constraints(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.duration("maxWallClockTime", {.min_ticks = 1, .fallback = kUnlimitedDuration});
      !st) {
    return st;
  }
  return f.integer("maxTaskRetryCount", {.min = kRetryUnlimited, .fallback = 0});
}

Status check_exit_conditions(json& src, json& out, const Path& path, bool job_actions_allowed) {
  Fields f(src, out, path);
  auto options = [job_actions_allowed](json& s, json& o, const Path& p) {
    return check_exit_options(s, o, p, job_actions_allowed);
  };
  auto code = [&options](json& s, json& o, const Path& p) -> Status {
    Fields c(s, o, p);
    if (auto st = c.integer("code", {.required = true}); !st) return st;
    return c.object("exitOptions", options, true);
  };
  auto range = [&options](json& s, json& o, const Path& p) -> Status {
    Fields r(s, o, p);
    if (auto st = r.integer("start", {.required = true}); !st) return st;
    if (auto st = r.integer("end", {.required = true}); !st) return st;
    if (o["start"].get<int64_t>() > o["end"].get<int64_t>()) {
      return invalid(p / "end", o["end"], "must not be less than start");
    }
    return r.object("exitOptions", options, true);
  };
  if (auto st = f.objects("exitCodes", kMaxListItems, code); !st) return st;
  if (auto st = f.objects("exitCodeRanges", kMaxListItems, range); !st) return st;
  for (auto key : {"preProcessingError", "fileUploadError", "default"}) {
    if (auto st = f.object(key, options); !st) return st;
  }
  return {};
}

}  // namespace openbatch::domain::detail
