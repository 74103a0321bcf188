// Wire spellings of the snapshot enums and the placement order of pending tasks.
#include "scheduler/placement/snapshot.hpp"

#include "common/text/ascii.hpp"

#include <array>
#include <utility>

namespace openbatch::placement {
namespace {

constexpr std::array<std::pair<NodeState, std::string_view>, 13> kNodeStates{{
    {NodeState::Creating, "creating"},
    {NodeState::Starting, "starting"},
    {NodeState::WaitingForStartTask, "waitingforstarttask"},
    {NodeState::StartTaskFailed, "starttaskfailed"},
    {NodeState::Idle, "idle"},
    {NodeState::Running, "running"},
    {NodeState::Offline, "offline"},
    {NodeState::Unusable, "unusable"},
    {NodeState::Unknown, "unknown"},
    {NodeState::Rebooting, "rebooting"},
    {NodeState::Reimaging, "reimaging"},
    {NodeState::LeavingPool, "leavingpool"},
    {NodeState::Preempted, "preempted"},
}};

}  // namespace

std::string_view to_string(NodeState state) {
  for (const auto& [value, name] : kNodeStates) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<NodeState> parse_node_state(std::string_view text) {
  for (const auto& [value, name] : kNodeStates) {
    if (text::iequals(name, text)) return value;
  }
  return std::nullopt;
}

std::string_view to_string(NodeFillType fill) {
  return fill == NodeFillType::Pack ? "pack" : "spread";
}

std::optional<NodeFillType> parse_node_fill_type(std::string_view text) {
  if (text::iequals(text, "spread")) return NodeFillType::Spread;
  if (text::iequals(text, "pack")) return NodeFillType::Pack;
  return std::nullopt;
}

bool placement_order(const PendingTask& a, const PendingTask& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

}  // namespace openbatch::placement
