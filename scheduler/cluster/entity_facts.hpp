// Reading the few facts the engine needs out of stored entity JSON (pools, jobs, tasks,
// inventories). Pure; tolerant of missing or mistyped fields (the API validated them).
#pragma once

#include "scheduler/cluster/model.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace openbatch::cluster {

PoolInfo pool_info_of(const nlohmann::json& pool, const std::string& default_provisioner);
// Fills job facts (leaves pending/running/queued alone).
void read_job_facts(const nlohmann::json& job, JobInfo& info);
PendingItem pending_item_of(const nlohmann::json& task, int64_t seq);
// The task's GPU request, an OpenBatch extension shaped like Azure Container Instances'
// resources.requests.gpu: {"resources": {"requests": {"gpu": {"count": 1, "sku": "H100",
// "minCudaVersion": "12.2"}}}}.
placement::GpuRequest gpu_request_of(const nlohmann::json& task);
// "12.2" -> 12020 (1000 * major + 10 * minor, as NVML reports); 0 when unreadable.
int parse_cuda_version(std::string_view text);

struct InventoryFacts {
  std::vector<placement::GpuDevice> gpus;
  int cuda_driver_version = 0;  // 1000 * major + 10 * minor
  int infiniband_active_ports = 0;
  std::string address;  // first non-loopback address, "" when none
  std::string hostname;
  // {"addresses", "infinibandPorts"} as the inventory has them: the MPI transport's input.
  nlohmann::json network = nlohmann::json::object();
};
InventoryFacts inventory_facts_of(const nlohmann::json& inventory);

// The inventory's "inventoryHash" as the agent computes it (node_agent/link/inventory_hash.cpp:
// lowercase hex SHA-256 of inventory.dump()). Stored at join, so that the welcome does not ask
// a freshly joined agent for the inventory it sent with its join a moment before.
std::string inventory_hash_of(const nlohmann::json& inventory);

std::string lower(std::string_view s);

}  // namespace openbatch::cluster
