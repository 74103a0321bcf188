// The records of the engine's in-memory model of the cluster (ClusterModel holds them): pools,
// jobs with their pending tasks, nodes with their links and attempts, running attempts and
// multi-instance gangs. A cache of the store (rebuilt from it at start and kept current by the
// change feed and the engine's own commits) plus what only lives in memory: links and
// liveness. Used on the engine's strand only.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/placement/snapshot.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

// The link a node's agent holds (agents/agent_channel.hpp); the model only keeps the pointer.
namespace openbatch::agents {
class AgentChannel;
}

namespace openbatch::cluster {

using SteadyTime = std::chrono::steady_clock::time_point;

struct PoolInfo {
  std::string id;
  std::optional<domain::PoolState> state = domain::PoolState::Active;  // nullopt: unreadable
  int target_nodes = 0;  // targetDedicatedNodes + targetLowPriorityNodes
  int task_slots_per_node = 1;
  placement::NodeFillType fill = placement::NodeFillType::Spread;
  bool inter_node = false;
  std::string vm_size;
  std::string provisioner;  // local | static
  nlohmann::json image_reference = nlohmann::json::object();
  // What its nodes do before they take tasks (protocol::NodeSetup).
  nlohmann::json start_task;                              // null: none
  nlohmann::json package_refs = nlohmann::json::array();  // applicationPackageReferences
  std::optional<std::string> gpu_driver_version;          // metadata openbatch.gpuDriverVersion
};

// A task waiting in the engine for placement.
struct PendingItem {
  std::string task_id;
  int64_t seq = 0;
  int required_slots = 1;
  int instances = 1;
  std::string affinity_id;
  placement::GpuRequest gpu;   // OpenBatch extension: resources.requests.gpu
  std::string pending_reason;  // the last reason written to the task (openbatch.pendingReason)
};

struct JobInfo {
  std::string id;
  std::string pool_key;                                              // lowercased poolInfo.poolId
  std::optional<domain::JobState> state = domain::JobState::Active;  // nullopt: unreadable
  int priority = 0;
  int max_parallel = -1;
  bool terminate_when_done = false;  // onAllTasksComplete == terminatejob
  nlohmann::json common_environment = nlohmann::json::array();
  std::map<int64_t, PendingItem> pending;  // by seq
  int running = 0;                         // attempts dispatched and not finished
  bool queued = false;                     // its pending tasks are in the pool queue
};

// Order of a pool queue: job priority descending, then submission order.
struct QueueKey {
  int neg_priority = 0;
  int64_t seq = 0;
  std::string job_key;
  bool operator<(const QueueKey& o) const {
    if (neg_priority != o.neg_priority) return neg_priority < o.neg_priority;
    return seq < o.seq;
  }
};

struct AttemptInfo {
  std::string job_id;
  std::string task_id;
  std::string node_id;
  int slots = 1;
  bool cancel_sent = false;
  bool finishing = false;  // a completion or requeue for it is being committed
  // An instance of a multi-instance task: its subtask id (0 = primary) and the primary's
  // attempt id, the key of its GangInfo. -1 / "" for a plain attempt.
  int subtask_id = -1;
  std::string gang;
};

// A multi-instance task's attempt while any of its instances is on a node (gang_execution.hpp).
struct GangInfo {
  std::string job_id;
  std::string task_id;
  std::vector<std::string> attempt_ids;  // by subtask id; [0] is the primary (the key)
  std::vector<std::string> node_ids;     // by subtask id
  std::vector<bool> coordinated;         // durable in openbatch.gang.coordinated
  bool started = false;  // startApplication sent to the primary (resent on its next hello)
  bool ended = false;    // the task's outcome is decided: the instances left are being stopped
  std::size_t live = 0;  // instances not forgotten yet
};

struct NodeInfo {
  std::string id;
  std::string pool_id;
  domain::NodeState state = domain::NodeState::Creating;
  // The agent's last nodeStatus: "ready" (takes tasks) or the Azure state it stands in
  // (starting, waitingforstarttask, starttaskfailed, unusable); "" before any.
  std::string setup_state;
  uint64_t setup_generation = 1;  // openbatch.setupGeneration: grows with each API reboot
  bool scheduling_enabled = true;
  std::string provisioner;
  std::string ip_address;
  std::string inventory_hash;
  std::vector<placement::GpuDevice> gpus;
  int cuda_driver_version = 0;
  int infiniband_active_ports = 0;
  // What a multi-instance task needs to know of the node: its hostname, the port of its
  // agent's remote-launch server (from hello; 0 = none), and the inventory's addresses and
  // InfiniBand ports for the MPI transport choice ({"addresses", "infinibandPorts"}).
  std::string hostname;
  int exec_port = 0;
  nlohmann::json network = nlohmann::json::object();
  std::set<std::string> attempts;  // attempt ids on the node
  int used_slots = 0;
  // Link: up once hello was answered.
  std::shared_ptr<agents::AgentChannel> link;
  bool linked = false;
  uint64_t next_seq = 1;  // our frames on the current link
  SteadyTime last_seen{};
  bool leaving = false;  // being removed from the pool
  bool state_write_pending = false;
};

}  // namespace openbatch::cluster
