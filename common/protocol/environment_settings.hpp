// An entity's environment settings as both daemons read them from stored or wire JSON: the
// Batch API's [{"name": ..., "value": ...}] (a task's environmentSettings, a job's
// commonEnvironmentSettings, a start task's environmentSettings). Validation happened where
// the JSON came in (the API's validators), so this reading is lenient: a list that is not an
// array gives no settings, an item that is not an object is skipped, a missing name or value
// reads as "".
#pragma once

#include "common/protocol/agent_protocol.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace openbatch::protocol {

// Appends the settings of `list` to `out`, in order.
void append_environment_settings(const nlohmann::json& list, std::vector<EnvironmentSetting>& out);

std::vector<EnvironmentSetting> environment_settings_of(const nlohmann::json& list);

}  // namespace openbatch::protocol
