// package_environment over the task environment's naming rule (see package_env.hpp).
#include "node_agent/packages/package_env.hpp"

#include "node_agent/tasks/environment.hpp"

#include <optional>

namespace openbatch::agent::packages {

EnvironmentVariables package_environment(std::string_view application_id, std::string_view version,
                                         const std::filesystem::path& dir, bool default_version) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(dir, ec);
  if (ec) absolute = dir;
  const std::string value = absolute.lexically_normal().string();
  EnvironmentVariables out;
  for (auto& name : tasks::app_package_variable_names(application_id, std::string(version))) {
    out.emplace_back(std::move(name), value);
  }
  if (default_version) {
    for (auto& name : tasks::app_package_variable_names(application_id, std::nullopt)) {
      out.emplace_back(std::move(name), value);
    }
  }
  return out;
}

}  // namespace openbatch::agent::packages
