// Node setup on the scheduler side, as pure functions: the state a node shows for its agent's
// nodeStatus, the node record it writes, the packages a reference resolves to, and the task's
// GPU request.
#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/packages/resolution.hpp"

#include <gtest/gtest.h>

namespace openbatch::cluster {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;    // NOLINT(google-build-using-namespace)
using namespace packages;  // NOLINT(google-build-using-namespace)
namespace {

using nlohmann::json;

const TimePoint kNow = TimePoint(std::chrono::seconds(1767225600));

TEST(NodeSetupRecord, ReadyMeansIdleOrRunningAndTheRestIsTheAzureState) {
  EXPECT_EQ(resting_state("ready", false), "idle");
  EXPECT_EQ(resting_state("ready", true), "running");
  EXPECT_EQ(resting_state("", false), "idle") << "no status yet: nodes from before setups";
  EXPECT_EQ(resting_state("waitingforstarttask", false), "waitingforstarttask");
  EXPECT_EQ(resting_state("starttaskfailed", true), "starttaskfailed");
  EXPECT_EQ(resting_state("unusable", false), "unusable");
}

TEST(NodeSetupRecord, StatusFieldsAreWrittenAndCleared) {
  NewNode spec{"n1",
               "p",
               "http://x/pools/p/nodes/n1",
               "standard_d2s_v3",
               "10.0.0.1",
               "h",
               "static",
               json::object(),
               "starting"};
  json node = make_node(spec, kNow);
  const json start_task = {{"commandLine", "/bin/true"}, {"waitForSuccess", true}};
  const json info = {
      {"state", "completed"}, {"exitCode", 0}, {"result", "success"}, {"retryCount", 0}};
  const json errors = json::array(
      {{{"code", "GpuDriverVersionMismatch"}, {"message", "driver 1 found, pool requires 2"}}});
  apply_node_status(node, "unusable", info, errors, start_task, 3, kNow);
  EXPECT_EQ(node["state"], "unusable");
  EXPECT_EQ(node["errors"], errors);
  EXPECT_EQ(node["startTaskInfo"], info);
  EXPECT_EQ(node["startTask"], start_task);
  EXPECT_EQ(node["openbatch"]["setupState"], "unusable");
  EXPECT_EQ(node["openbatch"]["setupGeneration"], 3);

  apply_node_status(node, "ready", info, json::array(), nullptr, 4, kNow);
  EXPECT_EQ(node["state"], "idle");
  EXPECT_FALSE(node.contains("errors")) << "Azure omits errors when there are none";
  EXPECT_FALSE(node.contains("startTask"));

  set_node_state(node, "leavingpool", kNow);
  apply_node_status(node, "ready", info, json::array(), nullptr, 4, kNow);
  EXPECT_EQ(node["state"], "leavingpool") << "a leaving node stays leaving";
}

json application() {
  return {
      {"id", "GPUDriver"},
      {"versions", {"411.82", "470.57"}},
      {"defaultVersion", "411.82"},
      {"openbatch",
       {{"packages",
         {{"411.82", {{"sha256", std::string(64, 'a')}, {"size", 10}, {"state", "active"}}},
          {"470.57", {{"sha256", std::string(64, 'b')}, {"size", 20}, {"state", "pending"}}}}}}}};
}

TEST(PackageResolution, ActiveVersionsResolveCaseInsensitively) {
  auto named = packages::resolve_package(application(),
                                         {{"applicationId", "gpudriver"}, {"version", "411.82"}});
  ASSERT_TRUE(named);
  EXPECT_EQ(*named, (protocol::PackageRef{"GPUDriver", "411.82", std::string(64, 'a'), 10, false}));
  auto by_default = packages::resolve_package(application(), {{"applicationId", "GPUDriver"}});
  ASSERT_TRUE(by_default);
  EXPECT_TRUE(by_default->default_version);
  EXPECT_EQ(by_default->version, "411.82");
  EXPECT_FALSE(packages::resolve_package(application(),
                                         {{"applicationId", "GPUDriver"}, {"version", "470.57"}}))
      << "a pending version is not installable";
  EXPECT_FALSE(packages::resolve_package(application(),
                                         {{"applicationId", "GPUDriver"}, {"version", "1.0"}}));
  json no_default = application();
  no_default.erase("defaultVersion");
  EXPECT_FALSE(packages::resolve_package(no_default, {{"applicationId", "GPUDriver"}}));
}

TEST(GpuRequest, ReadsTheResourcesExtension) {
  json task = {
      {"id", "t"},
      {"resources",
       {{"requests", {{"gpu", {{"count", 2}, {"sku", "H100"}, {"minCudaVersion", "12.2"}}}}}}}};
  auto gpu = gpu_request_of(task);
  EXPECT_EQ(gpu.count, 2);
  EXPECT_EQ(gpu.sku, "H100");
  EXPECT_EQ(gpu.min_cuda_version, 12020);
  EXPECT_EQ(gpu_request_of(json{{"id", "t"}}), placement::GpuRequest{});
  EXPECT_EQ(parse_cuda_version("12"), 12000);
  EXPECT_EQ(parse_cuda_version("11.8"), 11080);
  EXPECT_EQ(parse_cuda_version("twelve"), 0);
  EXPECT_EQ(pending_item_of(task, 7).gpu.min_cuda_version, 12020);
}

TEST(PoolSetup, StartTaskPackagesAndThePinnedDriver) {
  json pool = {
      {"id", "p"},
      {"startTask", {{"commandLine", "/bin/true"}}},
      {"applicationPackageReferences", {{{"applicationId", "GPUDriver"}, {"version", "411.82"}}}},
      {"metadata", {{{"name", "openbatch.gpuDriverVersion"}, {"value", "411.82"}}}}};
  PoolInfo info = pool_info_of(pool, "local");
  EXPECT_EQ(info.start_task["commandLine"], "/bin/true");
  EXPECT_EQ(info.package_refs.size(), 1u);
  EXPECT_EQ(info.gpu_driver_version, "411.82");
  EXPECT_FALSE(pool_info_of(json{{"id", "q"}}, "local").gpu_driver_version);
  EXPECT_TRUE(pool_info_of(json{{"id", "q"}}, "local").start_task.is_null());
}

}  // namespace
}  // namespace openbatch::cluster
