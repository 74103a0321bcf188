// The per-node placement rules listed in kFilters.
#include "scheduler/placement/filters.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>

namespace openbatch::placement {
namespace {

bool state_takes_tasks(NodeState state) {
  return state == NodeState::Idle || state == NodeState::Running;
}

}  // namespace

std::optional<Reason> node_state_filter(const NodeView& node, const TaskRequest&) {
  if (state_takes_tasks(node.node.state)) return std::nullopt;
  return reasons::node_not_schedulable(node.node.state);
}

std::optional<Reason> scheduling_state_filter(const NodeView& node, const TaskRequest&) {
  if (node.node.scheduling_enabled) return std::nullopt;
  return reasons::node_scheduling_disabled();
}

std::optional<Reason> reservation_filter(const NodeView& node, const TaskRequest& task) {
  if (node.reserved_by == nullptr || node.reserved_by == &task.task) return std::nullopt;
  return reasons::reserved_for_gang(node.reserved_by->job_id, node.reserved_by->task_id);
}

std::optional<Reason> free_slots_filter(const NodeView& node, const TaskRequest& task) {
  if (node.free_slots >= task.slots) return std::nullopt;
  return reasons::insufficient_slots(task.slots, node.free_slots);
}

std::optional<Reason> gpu_filter(const NodeView& node, const TaskRequest& task) {
  const GpuRequest& want = task.task.gpu;
  if (want.count <= 0) return std::nullopt;
  const auto matching = std::count_if(
      node.node.gpus.begin(), node.node.gpus.end(),
      [&](const GpuDevice& gpu) { return want.sku.empty() || text::iequals(gpu.sku, want.sku); });
  if (matching >= want.count) return std::nullopt;
  return reasons::insufficient_gpus(want.count, static_cast<int>(matching), want.sku);
}

std::optional<Reason> cuda_filter(const NodeView& node, const TaskRequest& task) {
  const int want = task.task.gpu.min_cuda_version;
  if (want <= 0 || node.node.cuda_driver_version >= want) return std::nullopt;
  return reasons::cuda_version_too_old(want, node.node.cuda_driver_version);
}

std::optional<Reason> first_failure(const NodeView& node, const TaskRequest& task) {
  for (Filter filter : kFilters) {
    if (auto reason = filter(node, task)) return reason;
  }
  return std::nullopt;
}

bool takes_tasks(const NodeSnapshot& node) {
  return state_takes_tasks(node.state) && node.scheduling_enabled;
}

}  // namespace openbatch::placement
