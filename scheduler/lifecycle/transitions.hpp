// Pure lifecycle decisions: given an entity's stored JSON and what the store knows about its
// children, the entity's next state (or nothing to do). No I/O, no clock: `now` is passed in.
// The sweeper (sweeper.hpp) applies them.
#pragma once

#include "common/clock.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace openbatch::lifecycle {

struct PoolFacts {
  int nodes_in_pool = 0;  // node records of the pool, any state
  int nodes_joined = 0;   // nodes that count towards currentDedicatedNodes
};

// The pool after this sweep, or nullopt when nothing changes. Deleting pools are not handled
// here (they are removed once `nodes_in_pool` is 0, see pool_can_be_removed).
std::optional<nlohmann::json> next_pool(const nlohmann::json& pool, const PoolFacts& facts,
                                        TimePoint now);
bool pool_can_be_removed(const nlohmann::json& pool, const PoolFacts& facts);

struct JobFacts {
  int64_t running_tasks = 0;  // running or preparing
};

// The job after this sweep (terminating -> completed, disabling -> disabled,
// enabling -> active), or nullopt.
std::optional<nlohmann::json> next_job(const nlohmann::json& job, const JobFacts& facts,
                                       TimePoint now);

}  // namespace openbatch::lifecycle
