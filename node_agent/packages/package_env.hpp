// package_environment: the AZ_BATCH_APP_PACKAGE_* variables of one installed package
// (batch-api.md section 10), each set to the package's absolute folder.
//
// Names come from tasks::app_package_variable_names (one rule for the whole agent): appId and
// version joined by '_', with '.', '-' and '#' mapped to '_', the case kept, plus the
// all-lowercase spelling when it differs. A reference that named no version (the application's
// default version was installed) also gets the names without the "_<version>" suffix. Pure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch::agent::packages {

using EnvironmentVariables = std::vector<std::pair<std::string, std::string>>;

// E.g. GPUDriver 411.82 in /mnt/batch/tasks/applications/GPUDriver_411.82:
// {AZ_BATCH_APP_PACKAGE_GPUDriver_411_82, AZ_BATCH_APP_PACKAGE_gpudriver_411_82} = that folder.
// `dir` is made absolute (lexically) when it is not.
EnvironmentVariables package_environment(std::string_view application_id, std::string_view version,
                                         const std::filesystem::path& dir, bool default_version);

}  // namespace openbatch::agent::packages
