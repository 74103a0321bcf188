// The agent's driver check after the start task (node_setup.hpp): a pinned driver version must
// be exactly what the rediscovered inventory reports.
#include "node_agent/daemon/node_setup.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::daemon {
namespace {

using nlohmann::json;

TEST(DriverPin, MatchingOrUnpinnedDriversPass) {
  EXPECT_FALSE(driver_mismatch(std::nullopt, json{{"gpuDriverVersion", "535.104.05"}}));
  EXPECT_FALSE(driver_mismatch(std::string(), json::object()));
  EXPECT_FALSE(driver_mismatch(std::string("411.82"), json{{"gpuDriverVersion", "411.82"}}));
}

TEST(DriverPin, AnotherDriverOrNoneIsAnErrorSayingBoth) {
  auto wrong = driver_mismatch(std::string("470.57"), json{{"gpuDriverVersion", "411.82"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ((*wrong)["code"], "GpuDriverVersionMismatch");
  EXPECT_EQ((*wrong)["message"], "driver 411.82 found, pool requires 470.57");
  EXPECT_EQ((*wrong)["errorDetails"][0]["value"], "411.82");
  EXPECT_EQ((*wrong)["errorDetails"][1]["value"], "470.57");
  auto none = driver_mismatch(std::string("470.57"), json{{"gpuDriverVersion", nullptr}});
  ASSERT_TRUE(none);
  EXPECT_EQ((*none)["message"], "no NVIDIA driver found, pool requires 470.57");
}

}  // namespace
}  // namespace openbatch::agent::daemon
