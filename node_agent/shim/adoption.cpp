// Adoption decisions and the /proc fact behind them (see adoption.hpp).
#include "node_agent/shim/adoption.hpp"

#include <fstream>
#include <sstream>

namespace openbatch::agent::shim {

AdoptionPlan adoption_plan(const AdoptionFacts& f) {
  if (!f.status) return {};
  const ShimStatus& s = *f.status;
  if (s.boot_id.empty() || s.boot_id != f.current_boot_id) return {};
  if (s.state == ShimStatus::State::Exited) return {AdoptionAction::Collect, 0};
  if (f.live_shim_start_ticks && *f.live_shim_start_ticks == s.shim_start_ticks) {
    return {AdoptionAction::Adopt, 0};
  }
  return {AdoptionAction::Abandon, s.task_pid};
}

std::optional<std::uint64_t> process_start_ticks(pid_t pid, const std::string& proc_root) {
  if (pid <= 1) return std::nullopt;
  std::ifstream in(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // "pid (comm) state ...": comm may hold spaces and ')', so count fields after the last ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  std::string state;
  rest >> state;  // field 3
  if (!rest || state == "Z" || state == "X") return std::nullopt;
  for (int n = 4; n < 22; ++n) rest >> field;
  std::uint64_t ticks = 0;
  rest >> ticks;  // field 22
  if (!rest) return std::nullopt;
  return ticks;
}

}  // namespace openbatch::agent::shim
