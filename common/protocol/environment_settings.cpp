#include "common/protocol/environment_settings.hpp"

namespace openbatch::protocol {

void append_environment_settings(const nlohmann::json& list, std::vector<EnvironmentSetting>& out) {
  if (!list.is_array()) return;
  for (const auto& s : list) {
    if (s.is_object()) out.push_back({s.value("name", ""), s.value("value", "")});
  }
}

std::vector<EnvironmentSetting> environment_settings_of(const nlohmann::json& list) {
  std::vector<EnvironmentSetting> out;
  append_environment_settings(list, out);
  return out;
}

}  // namespace openbatch::protocol
