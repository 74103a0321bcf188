// What a restarted agent does with an attempt its journal says was not finished, given what
// the attempt's shim left (adoption_plan) -- pure, so the table is unit-tested -- and the I/O
// that gathers those facts (process_start_ticks).
//
//   other boot (or no boot id)           -> Abandon: no pid of that boot means anything now
//   status says exited                   -> Collect: report its real exit status, once
//   status says running, shim alive and
//     the same process (start ticks)     -> Adopt: it runs on; watch the shim, report its end
//   status says running, shim gone       -> Abandon and kill the task's group (nobody holds
//                                           its exit status any more)
//   no status (never started, or started
//     by an agent without shims)         -> Abandon (the journal's group is killed, as before)
//
// Abandoned attempts are not listed in hello, so the scheduler requeues them; adopted ones are
// listed as running, so it does not.
#pragma once

#include "node_agent/shim/shim_status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

namespace openbatch::agent::shim {

enum class AdoptionAction { Adopt, Collect, Abandon };

struct AdoptionFacts {
  std::string current_boot_id;
  std::optional<ShimStatus> status;
  // The start ticks of the live process that now has status->shim_pid (nullopt: no such
  // process, or a zombie).
  std::optional<std::uint64_t> live_shim_start_ticks;
};

struct AdoptionPlan {
  AdoptionAction action = AdoptionAction::Abandon;
  pid_t kill_group = 0;  // > 0: SIGKILL this group (a task whose shim is gone)
};

AdoptionPlan adoption_plan(const AdoptionFacts& facts);

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); nullopt when the
// process does not exist or is a zombie (it has exited: nothing left to adopt).
std::optional<std::uint64_t> process_start_ticks(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace openbatch::agent::shim
