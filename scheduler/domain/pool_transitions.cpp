#include "scheduler/domain/pool_transitions.hpp"

#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"

#include <algorithm>

namespace openbatch::domain {
namespace {

Error being_resized() {
  return errors::conflict("PoolBeingResized", "The specified pool is already being resized.");
}

// Azure gives up after resizeTimeout and settles at what it got, with a resize error.
bool resize_timed_out(const json& pool, TimePoint now) {
  auto since = parse_iso8601(pool.value("allocationStateTransitionTime", ""));
  auto timeout = parse_duration(pool.value("resizeTimeout", "PT15M"));
  return since && timeout &&
         now - *since >= std::chrono::duration_cast<TimePoint::duration>(*timeout);
}

}  // namespace

void delete_pool(json& pool, TimePoint now) {
  move_state(pool, PoolState::Deleting, now);
  move_allocation_state(pool, AllocationState::Resizing, now);
  pool["targetDedicatedNodes"] = 0;
  pool["targetLowPriorityNodes"] = 0;
}

Status resize_pool(json& pool, const json& resize, TimePoint now) {
  if (pool.value("enableAutoScale", false)) {
    return errors::conflict("OperationNotValidOnPool",
                            "The pool has autoscale enabled; it cannot be resized manually.");
  }
  if (allocation_state(pool) != AllocationState::Steady) return being_resized();
  for (const char* field : {"targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout"}) {
    if (resize.contains(field)) pool[field] = resize[field];
  }
  pool["openbatch"]["nodeDeallocationOption"] = resize.value("nodeDeallocationOption", "requeue");
  pool.erase("resizeErrors");
  move_allocation_state(pool, AllocationState::Resizing, now);
  return {};
}

Status stop_resize(json& pool, TimePoint now) {
  if (allocation_state(pool) != AllocationState::Resizing) {
    return errors::conflict("OperationInvalidForCurrentState", "The pool is not being resized.");
  }
  // Stop where the pool is now: the targets become the current counts.
  pool["targetDedicatedNodes"] = pool.value("currentDedicatedNodes", 0);
  pool["targetLowPriorityNodes"] = pool.value("currentLowPriorityNodes", 0);
  move_allocation_state(pool, AllocationState::Stopping, now);
  return {};
}

Status pool_accepts_node_removal(const json& pool) {
  if (allocation_state(pool) != AllocationState::Steady) return being_resized();
  return {};
}

void shrink_for_removed_nodes(json& pool, int removed, TimePoint now) {
  pool["targetDedicatedNodes"] = std::max(0, pool.value("targetDedicatedNodes", 0) - removed);
  move_allocation_state(pool, AllocationState::Resizing, now);
}

std::optional<json> settle_pool(const json& pool, const PoolFacts& facts, TimePoint now) {
  if (pool_state(pool) != PoolState::Active) return std::nullopt;
  const AllocationState allocation = allocation_state(pool);
  json next = pool;
  bool changed = false;
  if (pool.value("currentDedicatedNodes", 0) != facts.nodes_joined) {
    next["currentDedicatedNodes"] = facts.nodes_joined;
    changed = true;
  }
  const int target =
      pool.value("targetDedicatedNodes", 0) + pool.value("targetLowPriorityNodes", 0);
  const bool resizing = allocation == AllocationState::Resizing;
  if (allocation == AllocationState::Stopping || (resizing && facts.nodes_joined == target)) {
    move_allocation_state(next, AllocationState::Steady, now);
    return next;
  }
  if (resizing && resize_timed_out(pool, now)) {
    move_allocation_state(next, AllocationState::Steady, now);
    next["resizeErrors"] =
        json::array({{{"code", "AllocationTimedout"},
                      {"message",
                       "Desired number of dedicated nodes could not be allocated as the resize "
                       "timeout was reached"}}});
    return next;
  }
  if (changed) return next;
  return std::nullopt;
}

bool pool_can_be_removed(const json& pool, const PoolFacts& facts) {
  return pool_state(pool) == PoolState::Deleting && facts.nodes_in_pool == 0;
}

}  // namespace openbatch::domain
