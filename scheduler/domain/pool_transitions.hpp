// Every pool state and allocation-state change, as pure functions of the stored CloudPool JSON:
// the API's delete, resize, stop-resize and remove-nodes, and the lifecycle sweep that settles
// a resize (currentDedicatedNodes follows the nodes that joined; resizing -> steady once the
// target is reached or resizeTimeout passed, stopping -> steady) and removes a deleted pool
// once its last node left. Refusals are the 409s Azure returns, with the pool unchanged.
// No I/O: `now` is passed in.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace openbatch::domain {

using nlohmann::json;

// What the store knows about the pool's nodes when the sweep looks at it.
struct PoolFacts {
  int nodes_in_pool = 0;  // node records of the pool, any state
  int nodes_joined = 0;   // nodes that count towards currentDedicatedNodes
};

// -> deleting, resized to zero (allocationState resizing): running tasks are requeued as the
// nodes leave. The caller refuses a pool already deleting (409 PoolBeingDeleted).
void delete_pool(json& pool, TimePoint now);

// Pool - Resize with the validated `resize` body: new targets, resizeTimeout and
// nodeDeallocationOption; steady -> resizing, resizeErrors cleared. 409 OperationNotValidOnPool
// for an autoscale pool, PoolBeingResized unless steady.
Status resize_pool(json& pool, const json& resize, TimePoint now);

// Pool - Stop Resize: resizing -> stopping, targets become the current counts. 409
// OperationInvalidForCurrentState unless resizing.
Status stop_resize(json& pool, TimePoint now);

// Pool - Remove Nodes needs a steady pool: 409 PoolBeingResized otherwise.
Status pool_accepts_node_removal(const json& pool);

// `removed` nodes were sent leaving (node_record.hpp leave_pool): targetDedicatedNodes shrinks
// by as many (not below 0) and the pool resizes.
void shrink_for_removed_nodes(json& pool, int removed, TimePoint now);

// The pool after a lifecycle sweep, or nullopt when nothing changes. Only active pools move
// here; deleting ones are removed once empty (pool_can_be_removed).
std::optional<json> settle_pool(const json& pool, const PoolFacts& facts, TimePoint now);
bool pool_can_be_removed(const json& pool, const PoolFacts& facts);

}  // namespace openbatch::domain
