// The one "move state" of every stored entity, and the typed reading of its state. Azure keeps
// the previous state beside the current one: a move sets state and stateTransitionTime and, when
// the entity had a state, previousState and previousStateTransitionTime. allocationState has no
// previous pair on the wire. The per-entity transitions (task_execution, gang_execution,
// node_record, job_transitions, pool_transitions) all move states through here. No I/O.
#pragma once

#include "common/clock.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace openbatch::domain {

using nlohmann::json;

// Moves entity["state"] to `to` (no-op when already there), keeping the previous value and its
// time in previousState / previousStateTransitionTime.
void move_state(json& entity, std::string_view to, TimePoint now);

template <class State>
void move_state(json& entity, State to, TimePoint now) {
  move_state(entity, to_string(to), now);
}

// Moves pool["allocationState"] (no-op when already there), with its transition time.
void move_allocation_state(json& pool, AllocationState to, TimePoint now);

// The entity's state as stored; nullopt when absent or not one of the type's spellings.
std::optional<TaskState> task_state(const json& task);
std::optional<NodeState> node_state(const json& node);
std::optional<JobState> job_state(const json& job);
std::optional<PoolState> pool_state(const json& pool);
// A pool without allocationState is steady (as Azure reports a pool that never resized).
AllocationState allocation_state(const json& pool);

}  // namespace openbatch::domain
