// Tests of pool patch, updateproperties, resize and removenodes validation (batch-api.md 2).
#include "scheduler/domain/pool_validation.hpp"
#include "tests/unit/domain/test_support.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

using testing::error_of;
using testing::is_invalid;
using testing::is_missing;
using testing::json;

TEST(PoolPatch, ReturnsOnlyThePropertiesPresent) {
  auto r = validate_pool_patch({{"metadata", {{{"name", "a"}, {"value", "b"}}}}, {"vmSize", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json({{"metadata", {{{"name", "a"}, {"value", "b"}}}}}));
  r = validate_pool_patch(json::object());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(PoolPatch, KeepsAnEmptyListSoThatItClears) {
  auto r = validate_pool_patch(
      {{"applicationPackageReferences", json::array()}, {"certificateReferences", json::array()}});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["applicationPackageReferences"], json::array());
  EXPECT_EQ((*r)["certificateReferences"], json::array());
}

TEST(PoolPatch, ValidatesWhatItIsGiven) {
  EXPECT_TRUE(is_missing(error_of(validate_pool_patch({{"startTask", json::object()}})),
                         "startTask.commandLine"));
  EXPECT_TRUE(is_invalid(error_of(validate_pool_patch({{"metadata", "x"}})), "metadata"));
  EXPECT_TRUE(is_invalid(error_of(validate_pool_patch({{"targetNodeCommunicationMode", "x"}})),
                         "targetNodeCommunicationMode"));
  EXPECT_EQ(error_of(validate_pool_patch("x")).code, "InvalidRequestBody");
}

TEST(PoolUpdateProperties, RequiresTheThreeLists) {
  const json full = {{"applicationPackageReferences", json::array()},
                     {"metadata", json::array()},
                     {"certificateReferences", json::array()}};
  auto r = validate_pool_update_properties(full);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->contains("startTask"));  // absent: the stored start task is removed
  for (auto key : {"applicationPackageReferences", "metadata", "certificateReferences"}) {
    json body = full;
    body.erase(key);
    EXPECT_TRUE(is_missing(error_of(validate_pool_update_properties(body)), key)) << key;
  }
  json with_task = full;
  with_task["startTask"] = {{"commandLine", "x"}};
  EXPECT_EQ((*validate_pool_update_properties(with_task))["startTask"]["waitForSuccess"], true);
}

TEST(PoolResize, FillsTimeoutAndDeallocationDefaults) {
  auto r = validate_pool_resize({{"targetDedicatedNodes", 4}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json({{"targetDedicatedNodes", 4},
                      {"resizeTimeout", "PT15M"},
                      {"nodeDeallocationOption", "requeue"}}));
}

TEST(PoolResize, ChecksCountsTimeoutAndDeallocationOption) {
  EXPECT_TRUE(is_missing(error_of(validate_pool_resize(json::object())), "targetDedicatedNodes"));
  EXPECT_TRUE(is_invalid(error_of(validate_pool_resize({{"targetDedicatedNodes", -1}})),
                         "targetDedicatedNodes"));
  EXPECT_TRUE(is_invalid(error_of(validate_pool_resize({{"targetLowPriorityNodes", "1"}})),
                         "targetLowPriorityNodes"));
  EXPECT_TRUE(is_invalid(
      error_of(validate_pool_resize({{"targetDedicatedNodes", 1}, {"resizeTimeout", "PT1M"}})),
      "resizeTimeout"));
  for (auto [given, canonical] : {std::pair{"Requeue", "requeue"},
                                  {"TERMINATE", "terminate"},
                                  {"TaskCompletion", "taskcompletion"},
                                  {"RetainedData", "retaineddata"}}) {
    auto r = validate_pool_resize({{"targetDedicatedNodes", 0}, {"nodeDeallocationOption", given}});
    ASSERT_TRUE(r) << given;
    EXPECT_EQ((*r)["nodeDeallocationOption"], canonical);
  }
  EXPECT_TRUE(is_invalid(error_of(validate_pool_resize(
                             {{"targetDedicatedNodes", 0}, {"nodeDeallocationOption", "drain"}})),
                         "nodeDeallocationOption"));
}

TEST(PoolRemoveNodes, NeedsOneToAHundredNodeIds) {
  auto r = validate_pool_remove_nodes({{"nodeList", {"tvm-1", "tvm-2"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["nodeList"], json({"tvm-1", "tvm-2"}));
  EXPECT_EQ((*r)["nodeDeallocationOption"], "requeue");
  EXPECT_TRUE(is_missing(error_of(validate_pool_remove_nodes(json::object())), "nodeList"));
  EXPECT_TRUE(
      is_invalid(error_of(validate_pool_remove_nodes({{"nodeList", json::array()}})), "nodeList"));
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back("n" + std::to_string(i));
  EXPECT_TRUE(is_invalid(error_of(validate_pool_remove_nodes({{"nodeList", many}})), "nodeList"));
  EXPECT_TRUE(
      is_invalid(error_of(validate_pool_remove_nodes({{"nodeList", {"a", 3}}})), "nodeList[1]"));
}

}  // namespace
}  // namespace openbatch::domain
