#include "scheduler/lifecycle/transitions.hpp"

#include "common/time.hpp"

namespace openbatch::lifecycle {
namespace {

using nlohmann::json;

void move_state(json& e, const char* to, TimePoint now) {
  const std::string t = format_iso8601(now);
  e["previousState"] = e.value("state", "");
  e["previousStateTransitionTime"] = e.value("stateTransitionTime", "");
  e["state"] = to;
  e["stateTransitionTime"] = t;
}

void move_allocation(json& pool, const char* to, TimePoint now) {
  pool["allocationState"] = to;
  pool["allocationStateTransitionTime"] = format_iso8601(now);
}

}  // namespace

std::optional<json> next_pool(const json& pool, const PoolFacts& facts, TimePoint now) {
  if (pool.value("state", "") != "active") return std::nullopt;
  const std::string allocation = pool.value("allocationState", "steady");
  json next = pool;
  bool changed = false;
  if (pool.value("currentDedicatedNodes", 0) != facts.nodes_joined) {
    next["currentDedicatedNodes"] = facts.nodes_joined;
    changed = true;
  }
  const int target =
      pool.value("targetDedicatedNodes", 0) + pool.value("targetLowPriorityNodes", 0);
  if (allocation == "stopping" || (allocation == "resizing" && facts.nodes_joined == target)) {
    move_allocation(next, "steady", now);
    return next;
  }
  if (allocation == "resizing") {
    // Azure gives up after resizeTimeout and settles at what it got, with a resize error.
    auto since = parse_iso8601(pool.value("allocationStateTransitionTime", ""));
    auto timeout = parse_duration(pool.value("resizeTimeout", "PT15M"));
    if (since && timeout &&
        now - *since >= std::chrono::duration_cast<TimePoint::duration>(*timeout)) {
      move_allocation(next, "steady", now);
      next["resizeErrors"] =
          json::array({{{"code", "AllocationTimedout"},
                        {"message",
                         "Desired number of dedicated nodes could not be allocated as "
                         "the resize timeout was reached"}}});
      return next;
    }
  }
  if (changed) return next;
  return std::nullopt;
}

bool pool_can_be_removed(const json& pool, const PoolFacts& facts) {
  return pool.value("state", "") == "deleting" && facts.nodes_in_pool == 0;
}

std::optional<json> next_job(const json& job, const JobFacts& facts, TimePoint now) {
  const std::string state = job.value("state", "");
  if (facts.running_tasks > 0) return std::nullopt;  // wait for running tasks to be stopped
  json next = job;
  if (state == "terminating") {
    move_state(next, "completed", now);
    next["executionInfo"]["endTime"] = format_iso8601(now);
    return next;
  }
  if (state == "disabling") {
    move_state(next, "disabled", now);
    return next;
  }
  if (state == "enabling") {
    move_state(next, "active", now);
    return next;
  }
  return std::nullopt;
}

}  // namespace openbatch::lifecycle
