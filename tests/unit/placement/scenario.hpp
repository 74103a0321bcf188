// Placement scenarios as data: tests/fixtures/placement/*.json hold a cluster, pending tasks,
// a policy and the expected outcome; load_scenario() reads one into plain values. The format
// is documented in scheduler/placement/README.md.
#pragma once

#include "common/error.hpp"
#include "scheduler/placement/place.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::placement::testing {

// "job/task" -> node ids, in the order the result lists them.
using NamedNodes = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct ExpectedPending {
  std::string task;  // "job/task"
  ReasonCode reason = ReasonCode::InsufficientSlots;
  std::optional<std::string> text;  // describe(reason), when the fixture pins it
  std::optional<std::vector<std::pair<std::string, ReasonCode>>> nodes;
  std::optional<std::size_t> unlisted_nodes;
};

struct Scenario {
  std::string description;
  ClusterSnapshot cluster;
  std::vector<PendingTask> tasks;  // sorted by placement_order, as the dispatcher would
  PlacementPolicy policy;
  NamedNodes assignments;
  NamedNodes reservations;
  std::vector<ExpectedPending> pending;
  std::optional<std::size_t> tasks_examined;
};

// Reads and checks one scenario file; unknown keys are errors, so a typo cannot silently
// weaken a fixture.
Result<Scenario> load_scenario(const std::filesystem::path& path);

}  // namespace openbatch::placement::testing
