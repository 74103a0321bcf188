// Startup, before the journal's recovery: which attempts of the previous agent process their
// shims still run or hold the result of (shim/adoption.hpp decides), so that recovery leaves
// them alone and the runner adopts them; everything else under <state-dir>/shims goes (an
// abandoned attempt's shim directory, after its task group is killed when the shim is gone).
// Runs once, before the event loop.
#pragma once

#include "node_agent/runner/attempt_runner.hpp"
#include "node_agent/shim/shim_launch.hpp"
#include "node_agent/state/journal_record.hpp"

#include <vector>

namespace openbatch::agent::daemon {

std::vector<runner::AdoptedAttempt> recover_shims(const shim::ShimConfig& config,
                                                  const state::JournalState& journal);

}  // namespace openbatch::agent::daemon
