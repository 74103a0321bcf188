// Reading the engine's facts out of stored pools, jobs, tasks and inventories.
#include "scheduler/cluster/entity_facts.hpp"

#include <gtest/gtest.h>

namespace openbatch::cluster {
namespace {

using nlohmann::json;

TEST(EntityFacts, PoolProvisionerComesFromMetadataElseTheDefault) {
  auto pool =
      json::parse(R"({"id":"P","state":"active","targetDedicatedNodes":2,"targetLowPriorityNodes":1,
    "taskSlotsPerNode":4,"taskSchedulingPolicy":{"nodeFillType":"Pack"},"vmSize":"standard_d2s_v3",
    "metadata":[{"name":"OpenBatch.Provisioner","value":"Static"}]})");
  PoolInfo info = pool_info_of(pool, "local");
  EXPECT_EQ(info.target_nodes, 3);
  EXPECT_EQ(info.task_slots_per_node, 4);
  EXPECT_EQ(info.fill, placement::NodeFillType::Pack);
  EXPECT_EQ(info.provisioner, "static");
  pool.erase("metadata");
  EXPECT_EQ(pool_info_of(pool, "local").provisioner, "local");
}

TEST(EntityFacts, JobFacts) {
  auto job = json::parse(R"({"id":"J","state":"active","priority":5,"maxParallelTasks":3,
    "onAllTasksComplete":"terminatejob","poolInfo":{"poolId":"Pool-A"},
    "commonEnvironmentSettings":[{"name":"X","value":"1"}]})");
  JobInfo info;
  read_job_facts(job, info);
  EXPECT_EQ(info.priority, 5);
  EXPECT_EQ(info.max_parallel, 3);
  EXPECT_TRUE(info.terminate_when_done);
  EXPECT_EQ(info.pool_key, "pool-a");
  EXPECT_EQ(info.common_environment.size(), 1u);
}

TEST(EntityFacts, PendingTaskFacts) {
  auto task =
      json::parse(R"({"id":"t","requiredSlots":2,"multiInstanceSettings":{"numberOfInstances":3},
    "affinityInfo":{"affinityId":"TVM:n1"}})");
  PendingItem item = pending_item_of(task, 42);
  EXPECT_EQ(item.seq, 42);
  EXPECT_EQ(item.required_slots, 2);
  EXPECT_EQ(item.instances, 3);
  EXPECT_EQ(item.affinity_id, "TVM:n1");
}

TEST(EntityFacts, InventoryFacts) {
  auto inventory = json::parse(R"({"hostname":"n","cudaDriverVersion":"12.4",
    "gpus":[{"uuid":"GPU-1","name":"NVIDIA H200"},{"uuid":"GPU-2","name":"NVIDIA H200"}],
    "infinibandPorts":[{"device":"mlx5_0","port":1,"state":"4: ACTIVE"},{"device":"mlx5_1","port":1,"state":"1: DOWN"}],
    "addresses":[{"interface":"lo","address":"127.0.0.1","family":"inet"},
                 {"interface":"eth0","address":"10.1.0.4","family":"inet"}]})");
  auto facts = inventory_facts_of(inventory);
  EXPECT_EQ(facts.gpus.size(), 2u);
  EXPECT_EQ(facts.gpus[0].sku, "NVIDIA H200");
  EXPECT_EQ(facts.cuda_driver_version, 12040);
  EXPECT_EQ(facts.infiniband_active_ports, 1);
  EXPECT_EQ(facts.address, "10.1.0.4");
}

// The agent's inventoryHash (node_agent/link/inventory_hash.cpp): SHA-256 of the compact dump,
// keys sorted. A different hash would only make every welcome ask for the inventory again.
TEST(EntityFacts, InventoryHashIsTheAgentsSha256OfTheCompactDump) {
  const json inventory = {{"hostname", "sim-0"},
                          {"memoryMiB", 8192},
                          {"cpu", {{"logicalCount", 2}}},
                          {"gpus", json::array()}};
  // printf '%s' '{"cpu":{"logicalCount":2},"gpus":[],"hostname":"sim-0","memoryMiB":8192}' |
  // sha256sum
  EXPECT_EQ(inventory_hash_of(inventory),
            "2ff6db1abbc6006a7effc2abb45703d284b16c809e40294363a3b6c44fb60b47");
}

}  // namespace
}  // namespace openbatch::cluster
