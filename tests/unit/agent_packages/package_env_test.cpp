// package_environment: Azure's Linux names, the lowercase spelling, the default-version names.
#include "node_agent/packages/package_env.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::packages {
namespace {

TEST(PackageEnv, GpuDriverGetsTheCaseKeptAndTheLowercaseName) {
  const std::string dir = "/mnt/batch/tasks/applications/GPUDriver_411.82";
  EXPECT_EQ(package_environment("GPUDriver", "411.82", dir, false),
            (EnvironmentVariables{{"AZ_BATCH_APP_PACKAGE_GPUDriver_411_82", dir},
                                  {"AZ_BATCH_APP_PACKAGE_gpudriver_411_82", dir}}));
}

TEST(PackageEnv, DashesDotsAndHashesBecomeUnderscores) {
  const std::string dir = "/r/applications/flamenco-worker.x_2.2-1#b";
  EXPECT_EQ(package_environment("flamenco-worker.x", "2.2-1#b", dir, false),
            (EnvironmentVariables{{"AZ_BATCH_APP_PACKAGE_flamenco_worker_x_2_2_1_b", dir}}));
}

TEST(PackageEnv, TheDefaultVersionAlsoGetsTheNamesWithoutVersion) {
  const std::string dir = "/r/applications/Blender_2.7";
  EXPECT_EQ(package_environment("Blender", "2.7", dir, true),
            (EnvironmentVariables{{"AZ_BATCH_APP_PACKAGE_Blender_2_7", dir},
                                  {"AZ_BATCH_APP_PACKAGE_blender_2_7", dir},
                                  {"AZ_BATCH_APP_PACKAGE_Blender", dir},
                                  {"AZ_BATCH_APP_PACKAGE_blender", dir}}));
}

TEST(PackageEnv, TheValueIsAnAbsolutePath) {
  const auto vars = package_environment("tool", "1", "applications/tool_1", false);
  ASSERT_EQ(vars.size(), 1u);
  EXPECT_TRUE(std::filesystem::path(vars[0].second).is_absolute()) << vars[0].second;
  EXPECT_TRUE(vars[0].second.ends_with("applications/tool_1")) << vars[0].second;
}

}  // namespace
}  // namespace openbatch::agent::packages
