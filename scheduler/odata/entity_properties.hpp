// The top-level properties of each listed entity's wire form (Azure Batch 2022-10-01 models:
// CloudPool, CloudJob, CloudTask, ComputeNode, NodeFile, ImageInformation, PoolNodeCounts),
// so that a $filter naming anything else is refused (400) instead of matching nothing.
#pragma once

#include <span>
#include <string_view>

namespace openbatch::odata {

// The properties of the entities a list named `entity` returns ("pools", "jobs", "tasks",
// "nodes", "files", "supportedimages", "nodecounts"); empty (no check) for any other list.
std::span<const std::string_view> entity_properties(std::string_view entity);

}  // namespace openbatch::odata
