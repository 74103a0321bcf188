// build_environment: section 10's variable table as code (see environment.hpp).
#include "node_agent/tasks/environment.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace openbatch::agent::tasks {
namespace {

namespace fs = std::filesystem;

// An ordered list of variables with replace-in-place on a repeated name.
class EnvList {
 public:
  void set(std::string_view name, std::string value) {
    for (auto& [n, v] : vars_) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    vars_.emplace_back(std::string(name), std::move(value));
  }
  std::vector<std::string> render() const {
    std::vector<std::string> out;
    out.reserve(vars_.size());
    for (const auto& [n, v] : vars_) out.push_back(n + "=" + v);
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

bool is_reserved(std::string_view name) {
  return name.starts_with("AZ_BATCH_") || name == "CCP_NODES";
}

Status check_setting(std::string_view property, const EnvironmentSetting& s) {
  if (s.name.empty() || s.name.find('=') != std::string::npos ||
      s.name.find('\0') != std::string::npos) {
    return errors::invalid_property(property, s.name, "not a valid environment variable name");
  }
  if (s.value.find('\0') != std::string::npos) {
    return errors::invalid_property(property, s.name, "the value contains a NUL character");
  }
  if (is_reserved(s.name)) {
    return errors::invalid_property(property, s.name, "the name is reserved for Azure Batch");
  }
  return {};
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

std::string path_text(const fs::path& p) { return p.string(); }

std::string map_package_chars(std::string s) {
  for (char& c : s) {
    if (c == '.' || c == '-' || c == '#') c = '_';
  }
  return s;
}

Status add_multi_instance(const MultiInstanceInfo& mi, EnvList& env) {
  if (mi.hosts.empty() || mi.master_index >= mi.hosts.size()) {
    return errors::invalid_property("multiInstanceSettings", std::to_string(mi.hosts.size()),
                                    "the instance host list is empty or has no master");
  }
  std::string host_list;
  std::string node_list;
  std::string ccp = std::to_string(mi.hosts.size());
  for (std::size_t i = 0; i < mi.hosts.size(); ++i) {
    if (i > 0) {
      host_list += ',';
      node_list += ';';
    }
    host_list += mi.hosts[i].ip;
    node_list += mi.hosts[i].ip;
    ccp += ' ' + mi.hosts[i].ip + ' ' + std::to_string(mi.hosts[i].cores);
  }
  env.set("AZ_BATCH_HOST_LIST", host_list);
  env.set("AZ_BATCH_NODE_LIST", node_list);
  env.set("AZ_BATCH_MASTER_NODE",
          mi.hosts[mi.master_index].ip + ":" + std::to_string(mi.master_port));
  env.set("AZ_BATCH_IS_CURRENT_NODE_MASTER", bool_text(mi.is_current_node_master));
  env.set("AZ_BATCH_TASK_SHARED_DIR", path_text(mi.task_shared_dir));
  env.set("CCP_NODES", ccp);
  return {};
}

}  // namespace

std::string user_identity_label(const UserIdentity& identity) {
  if (identity.user_name) return *identity.user_name;
  std::string label = identity.scope == AutoUserScope::Pool ? "Pool" : "Task";
  label += identity.elevation == ElevationLevel::Admin ? "Admin" : "NonAdmin";
  return label;
}

std::vector<std::string> app_package_variable_names(std::string_view application_id,
                                                    const std::optional<std::string>& version) {
  constexpr std::string_view kPrefix = "AZ_BATCH_APP_PACKAGE_";
  std::string name = std::string(kPrefix) + std::string(application_id);
  if (version) name += "_" + *version;
  name = map_package_chars(std::move(name));
  std::vector<std::string> names{name};
  // Lower-case only the part after the fixed prefix, which is already upper case.
  std::string lower = name.substr(0, kPrefix.size()) +
                      text::to_lower(std::string_view(name).substr(kPrefix.size()));
  if (lower != name) names.push_back(std::move(lower));
  return names;
}

Result<std::vector<std::string>> build_environment(const EnvironmentInput& in) {
  const bool start = in.kind == TaskKind::StartTask;
  if (in.kind == TaskKind::MultiInstance && !in.multi_instance) {
    return errors::invalid_property("multiInstanceSettings", "",
                                    "a multi-instance task needs its instance hosts");
  }
  for (const auto& s : in.task_settings) {
    if (auto st = check_setting("environmentSettings", s); !st) return st.error();
  }
  if (!start) {
    for (const auto& s : in.job_settings) {
      if (auto st = check_setting("commonEnvironmentSettings", s); !st) return st.error();
    }
  }

  const fs::path wd = in.task_dir / "wd";
  const fs::path shared = in.node_root / "shared";
  EnvList env;
  env.set("AZ_BATCH_ACCOUNT_NAME", in.account_name);
  env.set("AZ_BATCH_ACCOUNT_URL", in.account_url);
  env.set("AZ_BATCH_POOL_ID", in.pool_id);
  env.set("AZ_BATCH_NODE_ID", in.node_id);
  env.set("AZ_BATCH_NODE_IS_DEDICATED", bool_text(in.node_is_dedicated));
  env.set("AZ_BATCH_NODE_ROOT_DIR", path_text(in.node_root));
  env.set("AZ_BATCH_NODE_SHARED_DIR", path_text(shared));
  env.set("AZ_BATCH_NODE_STARTUP_DIR", path_text(in.node_root / "startup"));
  env.set("AZ_BATCH_NODE_MOUNTS_DIR", path_text(in.node_root / "fsmounts"));
  env.set("AZ_BATCH_TASK_DIR", path_text(in.task_dir));
  env.set("AZ_BATCH_TASK_WORKING_DIR", path_text(wd));
  if (!start) {
    env.set("AZ_BATCH_JOB_ID", in.job_id);
    env.set("AZ_BATCH_TASK_ID", in.task_id);
  }
  env.set("AZ_BATCH_CERTIFICATES_DIR", path_text(in.task_dir / "certs"));
  env.set("AZ_BATCH_TASK_USER", in.os_user);
  env.set("AZ_BATCH_TASK_USER_IDENTITY", user_identity_label(in.identity));
  env.set("AZ_BATCH_TASK_RESERVED_EPHEMERAL_DISK_SPACE_BYTES",
          std::to_string(in.reserved_ephemeral_disk_space_bytes));
  for (const auto& pkg : in.app_packages) {
    for (const auto& name : app_package_variable_names(pkg.application_id, pkg.version)) {
      env.set(name, path_text(pkg.dir));
    }
  }
  if (in.kind == TaskKind::Task && in.authentication_token) {
    env.set("AZ_BATCH_AUTHENTICATION_TOKEN", *in.authentication_token);
  }
  if (in.kind == TaskKind::MultiInstance) {
    if (auto st = add_multi_instance(*in.multi_instance, env); !st) return st.error();
  }
  env.set("HOME", path_text(wd));
  std::string path = in.base_path;
  if (!path.empty()) path += ':';
  path += path_text(shared) + ":" + path_text(wd);
  env.set("PATH", std::move(path));
  if (!start) {
    for (const auto& s : in.job_settings) env.set(s.name, s.value);
  }
  for (const auto& s : in.task_settings) env.set(s.name, s.value);
  return env.render();
}

}  // namespace openbatch::agent::tasks
