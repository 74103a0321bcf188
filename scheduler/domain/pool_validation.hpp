// Pool request validation (batch-api.md section 2): each function takes the parsed request
// body and returns the CANONICAL JSON to store -- enums in their wire spelling, defaults
// filled in, durations normalised (PT60M -> PT1H), aliases converted (maxTasksPerNode ->
// taskSlotsPerNode), unknown properties dropped -- or an Error in the Azure shape naming the
// offending property by its path ("startTask.userIdentity.autoUser.elevationLevel").
//
// Bodies are taken by value so that a caller done with the parsed request can std::move it
// in and nothing is deep-copied. Pure functions (no I/O, no clock); thread-safe.
#pragma once

#include "common/error.hpp"
#include "scheduler/catalog/catalog.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace openbatch::domain {

struct PoolAddResult {
  nlohmann::json value;
  // Advice that Azure gives without rejecting, e.g. for RDMA sizes: turn on
  // enableInterNodeCommunication and keep taskSlotsPerNode at 1. Log or surface; not errors.
  std::vector<std::string> advisories;
};

// POST /pools. Checks vmSize, image and nodeAgentSKUId against the catalog (Windows images
// and Hyper-V generation mismatches are refused there). The stored vmSize is lowercase as
// Azure returns it. enableAutoScale=true is accepted and stored with its formula; OpenBatch
// does not evaluate it (the autoscale routes answer 409). Application package existence is
// for the caller to check.
Result<PoolAddResult> validate_pool_add(nlohmann::json body, const catalog::Catalog& catalog);

// A PoolSpecification (autoPoolSpecification.pool of a job): the same rules without `id`.
Result<PoolAddResult> validate_pool_specification(nlohmann::json spec,
                                                  const catalog::Catalog& catalog);

// PATCH /pools/{id}: only the properties present (startTask, applicationPackageReferences,
// metadata, certificateReferences, targetNodeCommunicationMode); each replaces the stored
// value and `[]` clears a list. An empty result means "nothing to change".
Result<nlohmann::json> validate_pool_patch(nlohmann::json body);

// POST /pools/{id}/updateproperties: the same properties, replacing everything;
// applicationPackageReferences, metadata and certificateReferences are required (may be
// []). No startTask in the result means the pool's start task is removed.
Result<nlohmann::json> validate_pool_update_properties(nlohmann::json body);

// POST /pools/{id}/resize: targetDedicatedNodes / targetLowPriorityNodes (>= 0, at least one;
// an absent one is absent from the result and keeps its current value), resizeTimeout
// (>= PT5M, default PT15M), nodeDeallocationOption (default requeue).
Result<nlohmann::json> validate_pool_resize(nlohmann::json body);

// POST /pools/{id}/removenodes: nodeList (1..100 node ids), resizeTimeout,
// nodeDeallocationOption, with the defaults of resize.
Result<nlohmann::json> validate_pool_remove_nodes(nlohmann::json body);

}  // namespace openbatch::domain
