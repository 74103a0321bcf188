// Adoption of the previous agent's shims at startup (see shim_recovery.hpp).
#include "node_agent/daemon/shim_recovery.hpp"

#include "node_agent/shim/adoption.hpp"
#include "node_agent/state/recovery.hpp"

#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace openbatch::agent::daemon {
namespace fs = std::filesystem;

std::vector<runner::AdoptedAttempt> recover_shims(const shim::ShimConfig& config,
                                                  const state::JournalState& journal) {
  std::vector<runner::AdoptedAttempt> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(config.dir, ec)) {
    const fs::path dir = entry.path();
    const auto id = shim::unescape_attempt_id(dir.filename().string());
    const auto known = id ? journal.attempts.find(*id) : journal.attempts.end();
    // Not an attempt the journal still runs: finished and durable, abandoned, or never ours.
    if (known == journal.attempts.end() || known->second.completed) {
      // A task still running for an attempt nobody will report is stopped, not left behind.
      auto left = shim::read_status_file(dir);
      if (left && *left && (*left)->state == shim::ShimStatus::State::Running &&
          (*left)->boot_id == config.boot_id) {
        state::ProcProcessProbe probe;
        if (probe.group_exists((*left)->task_pid)) probe.kill_group((*left)->task_pid);
      }
      shim::remove_attempt_dir(dir);
      continue;
    }
    auto status = shim::read_status_file(dir);
    if (!status) spdlog::warn("recovery: {}", status.error().message);
    shim::AdoptionFacts facts;
    facts.current_boot_id = config.boot_id;
    if (status && *status) facts.status = **status;
    // The pidfd first, then the identity check: a pid recycled after the check cannot slip in.
    posix::UniqueFd pidfd;
    if (facts.status && facts.status->state == shim::ShimStatus::State::Running) {
      pidfd =
          posix::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, facts.status->shim_pid, 0)));
      if (pidfd.get() >= 0)
        facts.live_shim_start_ticks = shim::process_start_ticks(facts.status->shim_pid);
    }
    auto plan = shim::adoption_plan(facts);
    auto attempt = shim::read_attempt_file(dir);
    if (plan.action != shim::AdoptionAction::Abandon && !attempt) {
      spdlog::warn("recovery: attempt {}: {}; abandoning it", *id, attempt.error().message);
      plan = {shim::AdoptionAction::Abandon, facts.status->task_pid};
    }
    if (plan.action == shim::AdoptionAction::Abandon) {
      state::ProcProcessProbe probe;
      if (plan.kill_group > 1 && probe.group_exists(plan.kill_group))
        probe.kill_group(plan.kill_group);
      shim::remove_attempt_dir(dir);
      continue;
    }
    out.push_back(
        runner::AdoptedAttempt{*id, dir, std::move(*attempt), *facts.status, std::move(pidfd)});
  }
  return out;
}

}  // namespace openbatch::agent::daemon
