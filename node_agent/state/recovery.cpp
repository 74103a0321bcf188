// Startup recovery of orphaned attempts (see recovery.hpp).
#include "node_agent/state/recovery.hpp"

#include <algorithm>
#include <fstream>
#include <signal.h>
#include <sstream>

namespace openbatch::agent::state {

std::string ProcProcessProbe::boot_id() const {
  std::ifstream in(proc_root_ + "/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

bool ProcProcessProbe::group_exists(pid_t pgid) const {
  if (pgid <= 1) return false;
  std::ifstream in(proc_root_ + "/" + std::to_string(pgid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')', so parse after the last ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  std::string state;
  long ppid = 0;
  long pgrp = 0;
  rest >> state >> ppid >> pgrp;
  return rest && state != "Z" && pgrp == pgid;
}

void ProcProcessProbe::kill_group(pid_t pgid) {
  if (pgid > 1) ::kill(-pgid, SIGKILL);
}

Result<RecoveryResult> recover(Journal& journal, ProcessProbe& probe,
                               const std::set<std::string>& adopted) {
  RecoveryResult result;
  const std::string boot = probe.boot_id();
  std::vector<std::string> orphans;
  for (const auto& [id, attempt] : journal.state().attempts) {
    if (attempt.completed) continue;     // its result is in the outbox
    if (adopted.contains(id)) continue;  // its shim runs it or holds its result
    orphans.push_back(id);
    const bool same_boot = !attempt.boot_id.empty() && attempt.boot_id == boot;
    if (attempt.pgid && same_boot && probe.group_exists(*attempt.pgid)) {
      probe.kill_group(*attempt.pgid);
      result.killed_groups.push_back(*attempt.pgid);
    }
  }
  std::sort(orphans.begin(), orphans.end());
  for (const auto& id : orphans) journal.append(AbandonedRecord{id});
  if (auto st = journal.flush(); !st) return st.error();
  result.abandoned = std::move(orphans);
  result.unacked_reports = journal.state().outbox.size();
  return result;
}

}  // namespace openbatch::agent::state
