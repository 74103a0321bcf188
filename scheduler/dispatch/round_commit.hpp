// A round's commit, run inside the store's group transaction: each task is re-read (still
// active?) and each node too (still up, and do the slots still fit its durable attempt list?),
// as Nomad's plan applier re-checks a plan. What passes is written -- the task running with
// its attempt, the node's attempt list -- and gets its assignment frame(s); the rest is marked
// on the Dispatch (committed / still_pending) for the Dispatcher to give back.
#pragma once

#include "common/clock.hpp"
#include "scheduler/dispatch/round_plan.hpp"
#include "scheduler/store/store.hpp"

#include <string>
#include <vector>

namespace openbatch::dispatch {

// False only when the store refused a write (the whole op fails).
bool commit_round(store::Writer& w, std::vector<Dispatch>& dispatches, TimePoint now,
                  const std::string& account_url);

}  // namespace openbatch::dispatch
