#include "scheduler/cluster/entity_facts.hpp"

#include "common/encoding.hpp"
#include "common/text/ascii.hpp"
#include "scheduler/domain/states.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <cstdio>

namespace openbatch::cluster {
using nlohmann::json;

namespace {

int int_of(const json& object, const char* key, int fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

std::string string_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string lower(std::string_view s) { return text::to_lower(s); }

std::string inventory_hash_of(const nlohmann::json& inventory) {
  const std::string text = inventory.dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

PoolInfo pool_info_of(const json& pool, const std::string& default_provisioner) {
  PoolInfo p;
  p.id = string_of(pool, "id");
  p.state = domain::parse_pool_state(string_of(pool, "state"));
  p.target_nodes =
      int_of(pool, "targetDedicatedNodes", 0) + int_of(pool, "targetLowPriorityNodes", 0);
  p.task_slots_per_node =
      std::max(1, int_of(pool, "taskSlotsPerNode", int_of(pool, "maxTasksPerNode", 1)));
  if (auto policy = pool.find("taskSchedulingPolicy");
      policy != pool.end() && policy->is_object()) {
    if (auto fill = placement::parse_node_fill_type(string_of(*policy, "nodeFillType")))
      p.fill = *fill;
  }
  p.inter_node = pool.value("enableInterNodeCommunication", false);
  p.vm_size = string_of(pool, "vmSize");
  if (auto vm = pool.find("virtualMachineConfiguration"); vm != pool.end() && vm->is_object()) {
    if (auto image = vm->find("imageReference"); image != vm->end()) p.image_reference = *image;
  }
  p.provisioner = default_provisioner;
  if (auto metadata = pool.find("metadata"); metadata != pool.end() && metadata->is_array()) {
    for (const auto& item : *metadata) {
      if (!item.is_object()) continue;
      const std::string name = lower(string_of(item, "name"));
      if (name == "openbatch.provisioner") {
        const std::string value = lower(string_of(item, "value"));
        if (value == "local" || value == "static") p.provisioner = value;
      } else if (name == "openbatch.gpudriverversion" && !string_of(item, "value").empty()) {
        p.gpu_driver_version = string_of(item, "value");
      }
    }
  }
  if (auto start = pool.find("startTask"); start != pool.end() && start->is_object())
    p.start_task = *start;
  if (auto refs = pool.find("applicationPackageReferences");
      refs != pool.end() && refs->is_array()) {
    p.package_refs = *refs;
  }
  return p;
}

void read_job_facts(const json& job, JobInfo& info) {
  info.id = string_of(job, "id");
  info.state = domain::parse_job_state(string_of(job, "state"));
  info.priority = int_of(job, "priority", 0);
  info.max_parallel = int_of(job, "maxParallelTasks", -1);
  info.terminate_when_done = lower(string_of(job, "onAllTasksComplete")) == "terminatejob";
  info.pool_key.clear();
  if (auto pool = job.find("poolInfo"); pool != job.end() && pool->is_object()) {
    info.pool_key = lower(string_of(*pool, "poolId"));
  }
  auto env = job.find("commonEnvironmentSettings");
  info.common_environment = env != job.end() && env->is_array() ? *env : json::array();
}

int parse_cuda_version(std::string_view text) {
  int major = 0, minor = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%d.%d", &major, &minor) < 1 || major < 0 || minor < 0) return 0;
  return major * 1000 + minor * 10;
}

placement::GpuRequest gpu_request_of(const json& task) {
  placement::GpuRequest gpu;
  auto resources = task.find("resources");
  if (resources == task.end() || !resources->is_object()) return gpu;
  auto requests = resources->find("requests");
  if (requests == resources->end() || !requests->is_object()) return gpu;
  auto g = requests->find("gpu");
  if (g == requests->end() || !g->is_object()) return gpu;
  gpu.count = std::max(0, int_of(*g, "count", 0));
  gpu.sku = string_of(*g, "sku");
  gpu.min_cuda_version = parse_cuda_version(string_of(*g, "minCudaVersion"));
  return gpu;
}

PendingItem pending_item_of(const json& task, int64_t seq) {
  PendingItem item;
  item.task_id = string_of(task, "id");
  item.seq = seq;
  item.required_slots = std::max(1, int_of(task, "requiredSlots", 1));
  if (auto mi = task.find("multiInstanceSettings"); mi != task.end() && mi->is_object()) {
    item.instances = std::max(1, int_of(*mi, "numberOfInstances", 1));
  }
  if (auto affinity = task.find("affinityInfo"); affinity != task.end() && affinity->is_object()) {
    item.affinity_id = string_of(*affinity, "affinityId");
  }
  item.gpu = gpu_request_of(task);
  if (auto ext = task.find("openbatch"); ext != task.end() && ext->is_object()) {
    if (auto reason = ext->find("pendingReason"); reason != ext->end() && reason->is_object()) {
      item.pending_reason = string_of(*reason, "message");
    }
  }
  return item;
}

InventoryFacts inventory_facts_of(const json& inventory) {
  InventoryFacts facts;
  if (!inventory.is_object()) return facts;
  if (auto gpus = inventory.find("gpus"); gpus != inventory.end() && gpus->is_array()) {
    for (const auto& g : *gpus) {
      if (g.is_object()) facts.gpus.push_back({string_of(g, "uuid"), string_of(g, "name")});
    }
  }
  if (auto cuda = inventory.find("cudaDriverVersion"); cuda != inventory.end()) {
    if (cuda->is_number_integer()) {
      facts.cuda_driver_version = cuda->get<int>();
    } else if (cuda->is_string()) {
      facts.cuda_driver_version = parse_cuda_version(cuda->get<std::string>());
    }
  }
  if (auto ports = inventory.find("infinibandPorts");
      ports != inventory.end() && ports->is_array()) {
    for (const auto& p : *ports) {
      if (p.is_object() && lower(string_of(p, "state")).find("active") != std::string::npos) {
        facts.infiniband_active_ports++;
      }
    }
  }
  facts.hostname = string_of(inventory, "hostname");
  for (const char* key : {"addresses", "infinibandPorts"}) {
    if (auto it = inventory.find(key); it != inventory.end() && it->is_array())
      facts.network[key] = *it;
  }
  if (auto addresses = inventory.find("addresses");
      addresses != inventory.end() && addresses->is_array()) {
    for (const auto& a : *addresses) {
      const std::string address = a.is_object() ? string_of(a, "address") : std::string();
      if (!address.empty() && !address.starts_with("127.") && address != "::1" &&
          a.value("family", "") != "inet6") {
        facts.address = address;
        break;
      }
    }
  }
  return facts;
}

}  // namespace openbatch::cluster
