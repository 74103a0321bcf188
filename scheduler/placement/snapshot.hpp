// Snapshot: the plain values place() decides on -- pools, nodes, jobs' parallelism budgets, and
// the pending tasks. The dispatcher builds them from the store and the node registry; tests
// build them by hand or from tests/fixtures/placement/*.json. Plain values: copy them freely and
// read them from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::placement {

// Azure Batch compute node states (batch-api.md section 3). Only Idle and Running nodes with
// scheduling enabled take tasks.
enum class NodeState {
  Creating,
  Starting,
  WaitingForStartTask,
  StartTaskFailed,
  Idle,
  Running,
  Offline,
  Unusable,
  Unknown,
  Rebooting,
  Reimaging,
  LeavingPool,
  Preempted,
};

// The Azure wire spelling, all lowercase ("waitingforstarttask").
std::string_view to_string(NodeState state);
// Parses the wire spelling, case-insensitively; nullopt for anything else.
std::optional<NodeState> parse_node_state(std::string_view text);

// taskSchedulingPolicy.nodeFillType.
enum class NodeFillType { Spread, Pack };

std::string_view to_string(NodeFillType fill);
// "spread" / "pack", case-insensitively (Azure echoes "Pack" as sent).
std::optional<NodeFillType> parse_node_fill_type(std::string_view text);

struct GpuDevice {
  std::string uuid;
  std::string sku;  // product name as the agent reports it, e.g. "NVIDIA H100 80GB HBM3"
  bool operator==(const GpuDevice&) const = default;
};

struct NodeSnapshot {
  std::string id;
  std::string pool_id;
  NodeState state = NodeState::Idle;
  bool scheduling_enabled = true;  // schedulingState == enabled
  // runningTaskSlotsCount: slots held by tasks already on the node. The node's total is its
  // pool's taskSlotsPerNode (Azure pools are homogeneous).
  int used_slots = 0;
  int running_tasks = 0;    // runningTasksCount: the spread tie-break after free slots
  std::string affinity_id;  // what tasks pass back in affinityInfo, e.g. "TVM:<node id>"
  // Hardware inventory, as discovered by the agent.
  std::vector<GpuDevice> gpus;
  int cuda_driver_version = 0;  // 1000 * major + 10 * minor, as NVML reports; 0 = no driver
  // Active InfiniBand ports. Reported now; no task can ask for RDMA yet, so no filter reads
  // it -- the multi-instance transport choice and a later RDMA filter will.
  int infiniband_active_ports = 0;
  bool operator==(const NodeSnapshot&) const = default;
};

struct PoolSnapshot {
  std::string id;
  int task_slots_per_node = 1;
  NodeFillType fill_type = NodeFillType::Spread;
  bool enable_inter_node_communication = false;
  bool operator==(const PoolSnapshot&) const = default;
};

// A job's parallelism budget. A job absent from the snapshot has no limit.
struct JobSnapshot {
  std::string id;
  int max_parallel_tasks = -1;  // -1: unlimited (the Azure default)
  int running_tasks = 0;        // tasks of the job preparing or running now
  bool operator==(const JobSnapshot&) const = default;
};

// Ids (pool, job, affinity) are matched case-insensitively, as Azure does; node ids order the
// tie-breaks byte-wise. A node id listed twice is used once (its first entry); a node whose
// pool is not listed is ignored.
struct ClusterSnapshot {
  std::vector<PoolSnapshot> pools;
  std::vector<NodeSnapshot> nodes;
  std::vector<JobSnapshot> jobs;
  bool operator==(const ClusterSnapshot&) const = default;
};

// OpenBatch extension shaped like ACI's resources.requests.gpu, plus a minimum CUDA version.
struct GpuRequest {
  int count = 0;             // GPUs the node must have; 0 = no GPU requirement
  std::string sku;           // "" = any SKU; otherwise compared case-insensitively
  int min_cuda_version = 0;  // 1000 * major + 10 * minor; 0 = any (or none)
  bool operator==(const GpuRequest&) const = default;
};

struct PendingTask {
  std::string job_id;
  std::string task_id;
  std::string pool_id;          // the job's poolInfo.poolId
  int priority = 0;             // the job's priority, -1000..1000
  int64_t seq = 0;              // submission order (store seq): FIFO within a priority
  int required_slots = 1;       // values below 1 count as 1
  int number_of_instances = 1;  // > 1: multi-instance (gang) task
  std::string affinity_id;      // affinityInfo.affinityId: a soft preference, "" = none
  GpuRequest gpu;
  bool operator==(const PendingTask&) const = default;
};

// The order place() expects its tasks in: job priority descending, then seq ascending.
// A strict weak ordering for std::sort / std::is_sorted.
bool placement_order(const PendingTask& a, const PendingTask& b);

}  // namespace openbatch::placement
