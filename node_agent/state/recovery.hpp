// Crash recovery (agent-protocol.md 4.5): what the journal says about attempts a previous
// agent process left behind, and what to do about them on startup.
//
// An attempt recorded as accepted but with neither a completed report nor an abandoned
// record was running (or about to run) when the agent died. When its shim still runs it, or
// has its exit status (shim/adoption.hpp), the agent takes it over: it is in `adopted` and
// left alone here. Otherwise its result can no longer be observed (the process is not our
// child any more), so the agent kills its process group if it still exists and records it
// abandoned. It is not listed in hello, so the scheduler
// finds it "dispatched but neither running nor reported" and requeues the task with a new
// attempt id; the old id is remembered and never started again. Reports still in the outbox
// are untouched: the next hello resends them.
//
// Thread-safety: none (runs before the event loop starts).
#pragma once

#include "node_agent/state/journal.hpp"

#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace openbatch::agent::state {

// The process table, behind a seam so that tests need not kill real processes.
class ProcessProbe {
 public:
  virtual ~ProcessProbe() = default;
  // The machine's boot id ("" when unknown): pids from another boot mean nothing.
  virtual std::string boot_id() const = 0;
  // True when process group `pgid` still exists (its leader, pid == pgid, is alive and still
  // leads that group).
  virtual bool group_exists(pid_t pgid) const = 0;
  // SIGKILL to the whole group.
  virtual void kill_group(pid_t pgid) = 0;
};

// The real one: /proc/sys/kernel/random/boot_id and /proc/<pgid>/stat under `proc_root`.
class ProcProcessProbe final : public ProcessProbe {
 public:
  explicit ProcProcessProbe(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}
  std::string boot_id() const override;
  bool group_exists(pid_t pgid) const override;
  void kill_group(pid_t pgid) override;

 private:
  std::string proc_root_;
};

struct RecoveryResult {
  std::vector<std::string> abandoned;  // attempt ids recorded abandoned now
  std::vector<pid_t> killed_groups;    // groups that were still alive and got SIGKILL
  std::size_t unacked_reports = 0;     // left in the outbox for the next hello
};

// Kills and abandons every orphaned attempt except the `adopted` ones, then flushes the journal.
[[nodiscard]] Result<RecoveryResult> recover(Journal& journal, ProcessProbe& probe,
                                             const std::set<std::string>& adopted = {});

}  // namespace openbatch::agent::state
